# bench/auth.mk: the Authentication benchmark (bench/auth_bench.c). Run: bench/auth.sh
noinst_PROGRAMS += bench/auth_bench
bench_auth_bench_SOURCES = bench/auth_bench.c
bench_auth_bench_CFLAGS = $(AM_CFLAGS) $(PTHREAD_CFLAGS) -I$(top_srcdir)/authd
bench_auth_bench_LDADD = authd/libauthfsm.a lib/libcoopnet.a $(SODIUM_LIBS) $(PTHREAD_LIBS)
EXTRA_DIST += bench/auth.sh

# The load generator for a real coopnet-authd provider (bench/auth_daemon.sh).
noinst_PROGRAMS += bench/auth_load
bench_auth_load_SOURCES = bench/auth_load.c
bench_auth_load_CFLAGS = $(AM_CFLAGS) $(SODIUM_CFLAGS)
bench_auth_load_LDADD = lib/libcoopnet.a $(SODIUM_LIBS)
EXTRA_DIST += bench/auth_daemon.sh

# The status application's state machines under load (bench/status_bench.c).
noinst_PROGRAMS += bench/status_bench
bench_status_bench_SOURCES = bench/status_bench.c
bench_status_bench_CFLAGS = $(AM_CFLAGS) -I$(top_srcdir)/authd
bench_status_bench_LDADD = authd/libstatus.a lib/libcoopnet.a $(SODIUM_LIBS)
