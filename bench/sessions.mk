# bench/sessions.mk: the session-table benchmark driver (bench/sess_bench.c, run:
# bench/sessions.sh), and bench/link_gso, a link helper of bench/cpupaths.sh
noinst_PROGRAMS += bench/sess_bench
bench_sess_bench_SOURCES = bench/sess_bench.c
bench_sess_bench_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
bench_sess_bench_LDADD = lib/libcoopnet.a $(JANSSON_LIBS)
EXTRA_DIST += bench/sessions.sh bench/authd_sessions.sh bench/ctl_auth.py

# BIG TCP on a link for bench/cpupaths.sh's GSO_MAX= (iproute2 6.1 lacks the IPv4 limits)
noinst_PROGRAMS += bench/link_gso
bench_link_gso_SOURCES = bench/link_gso.c
bench_link_gso_CFLAGS = $(AM_CFLAGS) $(LIBMNL_CFLAGS)
bench_link_gso_LDADD = lib/libcoopnet.a $(LIBMNL_LIBS)
