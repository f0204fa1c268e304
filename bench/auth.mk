# bench/auth.mk: the Authentication benchmark (bench/auth_bench.c). Run: bench/auth.sh
noinst_PROGRAMS += bench/auth_bench
bench_auth_bench_SOURCES = bench/auth_bench.c
bench_auth_bench_CFLAGS = $(AM_CFLAGS) $(PTHREAD_CFLAGS) -I$(top_srcdir)/authd
bench_auth_bench_LDADD = authd/libauthfsm.a lib/libcoopnet.a $(SODIUM_LIBS) $(PTHREAD_LIBS)
EXTRA_DIST += bench/auth.sh

# The load generator for a real coopnet-authd provider (bench/auth_daemon.sh).
noinst_PROGRAMS += bench/auth_load
bench_auth_load_SOURCES = bench/auth_load.c bench/benchutil.c bench/benchutil.h
bench_auth_load_CFLAGS = $(AM_CFLAGS) $(SODIUM_CFLAGS)
bench_auth_load_LDADD = lib/libcoopnet.a $(SODIUM_LIBS)
EXTRA_DIST += bench/auth_daemon.sh bench/status_daemon.sh bench/lib.sh

# One session change on the virtual switch (bench/vswitch.sh).
noinst_PROGRAMS += bench/vswitch_bench
bench_vswitch_bench_SOURCES = bench/vswitch_bench.c authd/vswitch.c authd/vswitch_nft.c
bench_vswitch_bench_CFLAGS = $(AM_CFLAGS) -I$(top_srcdir)/authd
bench_vswitch_bench_LDADD = $(AUTHD_LIBS)
EXTRA_DIST += bench/vswitch.sh

# Driver of tests/netns/vswitch-port.test: the switch of a policy with sessions, in the kernel.
noinst_PROGRAMS += tests/netns/vswitch-tool
tests_netns_vswitch_tool_SOURCES = tests/netns/vswitch-tool.c authd/vswitch.c authd/vswitch_nft.c
tests_netns_vswitch_tool_CFLAGS = $(AM_CFLAGS) -I$(top_srcdir)/authd
tests_netns_vswitch_tool_LDADD = $(AUTHD_LIBS)
EXTRA_DIST += tests/netns/vswitch-port.test
# The status application's state machines under load (bench/status_bench.c).
noinst_PROGRAMS += bench/status_bench
bench_status_bench_SOURCES = bench/status_bench.c
bench_status_bench_CFLAGS = $(AM_CFLAGS) -I$(top_srcdir)/authd
bench_status_bench_LDADD = authd/libstatus.a lib/libcoopnet.a $(SODIUM_LIBS)
# Time to the first page after an on-demand Authentication; revocation under churn (issue 11).
EXTRA_DIST += bench/first_page.sh bench/revoke_churn.sh tests/netns/httpd.py bench/fp_trace.py
# The clients of bench/first_page.sh: many HTTP clients at once from one process.
noinst_PROGRAMS += bench/page_load
bench_page_load_SOURCES = bench/page_load.c bench/benchutil.c bench/benchutil.h
bench_page_load_CFLAGS = $(AM_CFLAGS)

# WAL frames per stored exchange, insert and renewal, with the daemon's database code (issue 11).
noinst_PROGRAMS += bench/db_store
bench_db_store_SOURCES = bench/db_store.c bench/benchutil.c bench/benchutil.h
bench_db_store_CFLAGS = $(AM_CFLAGS) $(SQLITE3_CFLAGS) -I$(top_srcdir)/authd
bench_db_store_LDADD = $(AUTHD_LIBS)
