# bench/sessions.mk: the session-table benchmark driver (bench/sess_bench.c). Run: bench/sessions.sh
noinst_PROGRAMS += bench/sess_bench
bench_sess_bench_SOURCES = bench/sess_bench.c
bench_sess_bench_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
bench_sess_bench_LDADD = lib/libcoopnet.a $(JANSSON_LIBS)
EXTRA_DIST += bench/sessions.sh bench/authd_sessions.sh bench/ctl_auth.py
