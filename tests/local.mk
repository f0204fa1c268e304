# tests/: cmocka unit tests (make check), libFuzzer targets (--enable-fuzzing) and the
# network-namespace integration tests (tests/netns, run by scripts/test.sh as root).
TEST_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
TEST_LIBS = lib/libcoopnet.a $(CMOCKA_LIBS)

check_PROGRAMS += tests/unit/test_packet tests/unit/test_id tests/unit/test_grow \
	tests/unit/test_logrl tests/unit/test_log
TESTS += tests/unit/test_packet tests/unit/test_id tests/unit/test_grow tests/unit/test_logrl \
	tests/unit/test_log

tests_unit_test_packet_SOURCES = tests/unit/test_packet.c tests/unit/pktgen.c tests/unit/pktgen.h
tests_unit_test_packet_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_packet_LDADD = $(TEST_LIBS)

tests_unit_test_id_SOURCES = tests/unit/test_id.c
tests_unit_test_id_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_id_LDADD = $(TEST_LIBS)

tests_unit_test_grow_SOURCES = tests/unit/test_grow.c
tests_unit_test_grow_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_grow_LDADD = $(TEST_LIBS)
tests_unit_test_logrl_SOURCES = tests/unit/test_logrl.c
tests_unit_test_logrl_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_logrl_LDADD = $(TEST_LIBS)
tests_unit_test_log_SOURCES = tests/unit/test_log.c
tests_unit_test_log_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_log_LDADD = $(TEST_LIBS)

check_PROGRAMS += tests/unit/test_balance
TESTS += tests/unit/test_balance
tests_unit_test_balance_SOURCES = tests/unit/test_balance.c
tests_unit_test_balance_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_balance_LDADD = $(TEST_LIBS)

if ENABLE_FUZZING
noinst_PROGRAMS += tests/fuzz/fuzz_packet
tests_fuzz_fuzz_packet_SOURCES = tests/fuzz/fuzz_packet.c tests/fuzz/fuzzcheck.h
tests_fuzz_fuzz_packet_LDADD = lib/libcoopnet.a
tests_fuzz_fuzz_packet_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
endif

# lib/jconf: the test schema is embedded the way the daemons embed theirs (lib/local.mk)
check_PROGRAMS += tests/unit/test_jconf
TESTS += tests/unit/test_jconf
tests_unit_test_jconf_SOURCES = tests/unit/test_jconf.c tests/unit/data/test.schema.json
tests_unit_test_jconf_CFLAGS = $(TEST_CFLAGS) $(JANSSON_CFLAGS)
tests_unit_test_jconf_LDADD = $(TEST_LIBS) $(JANSSON_LIBS)
tests_unit_test_jconf_LDFLAGS = $(AM_LDFLAGS) \
	-Wl,--wrap=json_loadb,--wrap=malloc,--wrap=calloc,--wrap=realloc

if ENABLE_FUZZING
noinst_PROGRAMS += tests/fuzz/fuzz_jconf
tests_fuzz_fuzz_jconf_SOURCES = tests/fuzz/fuzz_jconf.c tests/unit/data/test.schema.json
tests_fuzz_fuzz_jconf_LDADD = lib/libcoopnet.a $(JANSSON_LIBS)
tests_fuzz_fuzz_jconf_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
endif
EXTRA_DIST += tests/unit/data/test.schema.json

# Fuzzing smoke run of every target: make fuzz-smoke [FUZZ_SECONDS=60]. New inputs go to
# tests/fuzz/corpus-run/NAME (git-ignored); the committed seeds in tests/fuzz/corpus/NAME stay.
FUZZ_SECONDS = 60
FUZZ_TARGETS = packet coop jconf nfq_logic ctl status policy nfqconf parent_msg nfq_traffic probe metrics \
	nfq_control
EXTRA_DIST += tests/fuzz/make_corpus.py tests/fuzz/corpus/packet tests/fuzz/corpus/ctl \
	tests/fuzz/corpus/metrics tests/fuzz/corpus/nfq_control
if ENABLE_FUZZING
noinst_PROGRAMS += tests/fuzz/fuzz_ctl tests/fuzz/fuzz_metrics
tests_fuzz_fuzz_metrics_SOURCES = tests/fuzz/fuzz_metrics.c
tests_fuzz_fuzz_metrics_LDADD = lib/libcoopnet.a $(JANSSON_LIBS)
tests_fuzz_fuzz_metrics_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_ctl_SOURCES = tests/fuzz/fuzz_ctl.c
tests_fuzz_fuzz_ctl_LDADD = lib/libcoopnet.a $(JANSSON_LIBS)
tests_fuzz_fuzz_ctl_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)

fuzz-smoke: $(FUZZ_TARGETS:%=tests/fuzz/fuzz_%)
	@set -e; for t in $(FUZZ_TARGETS); do \
		rm -rf tests/fuzz/corpus-run/$$t && mkdir -p tests/fuzz/corpus-run/$$t; \
		seeds=; [ -d $(srcdir)/tests/fuzz/corpus/$$t ] && seeds=$(srcdir)/tests/fuzz/corpus/$$t; \
		echo "fuzz-smoke: $$t for $(FUZZ_SECONDS) s"; \
		log=tests/fuzz/corpus-run/$$t.log; \
		tests/fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -max_len=4096 -print_final_stats=1 \
			tests/fuzz/corpus-run/$$t $$seeds > $$log 2>&1 || { tail -n 40 $$log; exit 1; }; \
		grep -E '^(Done|stat::peak_rss_mb)' $$log; \
	done
else
fuzz-smoke:
	@echo "fuzz-smoke needs ./configure --enable-fuzzing CC=clang" >&2; exit 1
endif
.PHONY: fuzz-smoke

# network-namespace integration tests (tests/netns/run.sh, as root; not part of make check)
EXTRA_DIST += tests/netns/lib.sh tests/netns/run.sh tests/netns/durations tests/netns/selftest.sh \
	tests/netns/selftest.test tests/netns/selftest-kill.test

# The cooperative datagram, the Authentication crypto and state machines (authproto).
AUTH_TEST_LIBS = authd/libauthfsm.a lib/libcoopnet.a $(SODIUM_LIBS) $(CMOCKA_LIBS)
check_PROGRAMS += tests/unit/test_coop tests/unit/test_authcrypto tests/unit/test_auth_fsm
TESTS += tests/unit/test_coop tests/unit/test_authcrypto tests/unit/test_auth_fsm
tests_unit_test_coop_SOURCES = tests/unit/test_coop.c
tests_unit_test_coop_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_coop_LDADD = $(TEST_LIBS)
tests_unit_test_authcrypto_SOURCES = tests/unit/test_authcrypto.c
tests_unit_test_authcrypto_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_authcrypto_LDADD = $(AUTH_TEST_LIBS)
tests_unit_test_auth_fsm_SOURCES = tests/unit/test_auth_fsm.c
tests_unit_test_auth_fsm_CFLAGS = $(TEST_CFLAGS) -I$(top_srcdir)/authd
tests_unit_test_auth_fsm_LDADD = $(AUTH_TEST_LIBS)

if ENABLE_FUZZING
noinst_PROGRAMS += tests/fuzz/fuzz_coop
tests_fuzz_fuzz_coop_SOURCES = tests/fuzz/fuzz_coop.c
tests_fuzz_fuzz_coop_LDADD = lib/libcoopnet.a
tests_fuzz_fuzz_coop_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
endif
EXTRA_DIST += tests/fuzz/make_coop_corpus.py tests/fuzz/corpus/coop

# The status payload (lib/status.c): codec, header rules, receive window.
check_PROGRAMS += tests/unit/test_status
TESTS += tests/unit/test_status
tests_unit_test_status_SOURCES = tests/unit/test_status.c
tests_unit_test_status_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_status_LDADD = $(TEST_LIBS) $(SODIUM_LIBS)
if ENABLE_FUZZING
noinst_PROGRAMS += tests/fuzz/fuzz_status
tests_fuzz_fuzz_status_SOURCES = tests/fuzz/fuzz_status.c
tests_fuzz_fuzz_status_LDADD = lib/libcoopnet.a
tests_fuzz_fuzz_status_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
endif
EXTRA_DIST += tests/fuzz/make_status_corpus.py tests/fuzz/coopgram.py tests/fuzz/corpus/status

# The path probe (lib/probe.c): payload codec, header rules, the probe segment.
check_PROGRAMS += tests/unit/test_probe
TESTS += tests/unit/test_probe
tests_unit_test_probe_SOURCES = tests/unit/test_probe.c
tests_unit_test_probe_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_probe_LDADD = $(TEST_LIBS) $(SODIUM_LIBS)
if ENABLE_FUZZING
noinst_PROGRAMS += tests/fuzz/fuzz_probe
tests_fuzz_fuzz_probe_SOURCES = tests/fuzz/fuzz_probe.c
tests_fuzz_fuzz_probe_LDADD = lib/libcoopnet.a
tests_fuzz_fuzz_probe_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
endif
EXTRA_DIST += tests/fuzz/corpus/probe

# vNIC reconciler and Apache vhosts (lib/vnic.c, lib/vhost.c)
# nl_talk (lib/nltalk.c) against a fake kernel
check_PROGRAMS += tests/unit/test_nltalk
TESTS += tests/unit/test_nltalk
tests_unit_test_nltalk_SOURCES = tests/unit/test_nltalk.c
tests_unit_test_nltalk_CFLAGS = $(TEST_CFLAGS) $(LIBMNL_CFLAGS)
tests_unit_test_nltalk_LDADD = $(TEST_LIBS) $(LIBMNL_LIBS)
tests_unit_test_nltalk_LDFLAGS = $(AM_LDFLAGS) -Wl,--wrap=mnl_socket_sendto -Wl,--wrap=mnl_socket_recvfrom

# the kernel's rtnetlink answers, through nl_talk and the vNIC state parser
FUZZ_TARGETS += rtnl
EXTRA_DIST += tests/fuzz/make_rtnl_corpus.py tests/fuzz/corpus/rtnl
if ENABLE_FUZZING
noinst_PROGRAMS += tests/fuzz/fuzz_rtnl
tests_fuzz_fuzz_rtnl_SOURCES = tests/fuzz/fuzz_rtnl.c tests/fuzz/fuzzcheck.h
tests_fuzz_fuzz_rtnl_CFLAGS = $(AM_CFLAGS) $(LIBMNL_CFLAGS)
tests_fuzz_fuzz_rtnl_LDADD = lib/libcoopnet.a $(LIBMNL_LIBS) $(JANSSON_LIBS)
tests_fuzz_fuzz_rtnl_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS) \
	-Wl,--wrap=mnl_socket_sendto -Wl,--wrap=mnl_socket_recvfrom
endif

check_PROGRAMS += tests/unit/test_vnic tests/unit/test_vhost
TESTS += tests/unit/test_vnic tests/unit/test_vhost
tests_unit_test_vnic_SOURCES = tests/unit/test_vnic.c
tests_unit_test_vnic_CFLAGS = $(TEST_CFLAGS) $(LIBMNL_CFLAGS)
tests_unit_test_vnic_LDADD = $(TEST_LIBS) $(LIBMNL_LIBS)
tests_unit_test_vnic_LDFLAGS = $(AM_LDFLAGS) -Wl,--wrap=mnl_socket_sendto -Wl,--wrap=mnl_socket_recvfrom
tests_unit_test_vhost_SOURCES = tests/unit/test_vhost.c
tests_unit_test_vhost_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_vhost_LDADD = $(TEST_LIBS) $(LIBMNL_LIBS)
tests_unit_test_vhost_LDFLAGS = $(AM_LDFLAGS) -Wl,--wrap=rename -Wl,--wrap=fsync
# driver of tests/netns/vnic.test (run as root by scripts/test.sh)
noinst_PROGRAMS += tests/netns/vnic-tool
tests_netns_vnic_tool_SOURCES = tests/netns/vnic-tool.c
tests_netns_vnic_tool_LDADD = lib/libcoopnet.a $(LIBMNL_LIBS)
EXTRA_DIST += tests/netns/vnic.test tests/netns/probe.test tests/netns/confidential6.test
# end-to-end overlay with vNICs (examples/ configs), also used by scripts/demo.sh
EXTRA_DIST += tests/netns/metrics.test tests/netns/status.test tests/netns/renewal.sh tests/netns/renewal-queue.test tests/netns/renewal-kernel.test tests/netns/balance.test tests/netns/balance-kernel.test tests/netns/balance-lib.sh tests/netns/grget.py tests/netns/grprobe.py tests/netns/vnic-e2e.test tests/netns/vnic-e2e-queue.test tests/netns/ss-bridged.test tests/netns/ss-bridged-kernel.test tests/netns/overlay-lib.sh tests/netns/urgdump.py \
	examples scripts/demo.sh

# lib/ctl: paged replies and the session object
check_PROGRAMS += tests/unit/test_ctl
TESTS += tests/unit/test_ctl
tests_unit_test_ctl_SOURCES = tests/unit/test_ctl.c
tests_unit_test_ctl_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_ctl_LDADD = $(TEST_LIBS) $(JANSSON_LIBS)
EXTRA_DIST += tests/unit/no-cmocka.h

# the command line of the three programs and coopnetctl's bash completion
TESTS += tests/cli.test
EXTRA_DIST += tests/cli.test
bashcompletiondir = $(datadir)/bash-completion/completions
dist_bashcompletion_DATA = contrib/bash-completion/coopnetctl
# lib/ctl_server.c and ctl_recv's errno contract, over real sockets
check_PROGRAMS += tests/unit/test_ctl_server
TESTS += tests/unit/test_ctl_server
tests_unit_test_ctl_server_SOURCES = tests/unit/test_ctl_server.c
tests_unit_test_ctl_server_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_ctl_server_LDADD = $(TEST_LIBS) $(JANSSON_LIBS)
# driver of tests/netns/nfq-diff.test: kernel mode's nft rules against nfq_decide
noinst_PROGRAMS += tests/netns/nfq-diff
tests_netns_nfq_diff_SOURCES = tests/netns/nfq-diff.c tests/unit/pktgen.c tests/unit/pktgen.h \
	nfq/nftrule.c nfq/kmrules.c nfq/kmsets.c nfq/kmstats.c nfq/kmdelta.c nfq/kmsync.c nfq/kmsvc.c
tests_netns_nfq_diff_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/nfq -I$(top_srcdir)/tests/unit
tests_netns_nfq_diff_CFLAGS = $(AM_CFLAGS) $(LIBNFQ_CFLAGS)
tests_netns_nfq_diff_LDADD = nfq/libnfqcore.a lib/libcoopnet.a $(LIBNFQ_LIBS) $(LIBNFTNL_LIBS) \
	$(LIBMNL_LIBS) $(JANSSON_LIBS)
EXTRA_DIST += tests/netns/nfq-diff.test

# The status state machine (authd/status_fsm.c) with an injected clock.
check_PROGRAMS += tests/unit/test_status_fsm
TESTS += tests/unit/test_status_fsm
tests_unit_test_status_fsm_SOURCES = tests/unit/test_status_fsm.c
tests_unit_test_status_fsm_CFLAGS = $(TEST_CFLAGS) -I$(top_srcdir)/authd
tests_unit_test_status_fsm_LDADD = authd/libstatus.a lib/libcoopnet.a $(SODIUM_LIBS) $(CMOCKA_LIBS)

# Health checks (authd/health.c) against real sockets on 127.0.0.1.
check_PROGRAMS += tests/unit/test_health
TESTS += tests/unit/test_health
tests_unit_test_health_SOURCES = tests/unit/test_health.c
tests_unit_test_health_CFLAGS = $(TEST_CFLAGS) -I$(top_srcdir)/authd -pthread
tests_unit_test_health_LDADD = authd/libstatus.a lib/libcoopnet.a $(CMOCKA_LIBS) -lpthread
# confidential-kernel.test: confidential.test with the SS and the SPs in kernel mode (issue 13)
EXTRA_DIST += tests/netns/confidential-kernel.test
# lib/hidx.c: the hash index (insert, find, remove with backward shift, move, growth, limits)
check_PROGRAMS += tests/unit/test_hidx
TESTS += tests/unit/test_hidx
tests_unit_test_hidx_SOURCES = tests/unit/test_hidx.c
tests_unit_test_hidx_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_hidx_LDADD = $(TEST_LIBS)
check_PROGRAMS += tests/unit/test_dheap
TESTS += tests/unit/test_dheap
tests_unit_test_dheap_SOURCES = tests/unit/test_dheap.c
tests_unit_test_dheap_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_dheap_LDADD = $(TEST_LIBS)
tests_unit_test_dheap_LDFLAGS = $(AM_LDFLAGS) -Wl,--wrap=realloc

# one session per exchange with plural headers and a group of SPs (docs/groups.md)
check_PROGRAMS += tests/unit/test_auth_headers
TESTS += tests/unit/test_auth_headers
tests_unit_test_auth_headers_SOURCES = tests/unit/test_auth_headers.c
tests_unit_test_auth_headers_CFLAGS = $(TEST_CFLAGS) -I$(top_srcdir)/authd
tests_unit_test_auth_headers_LDADD = $(AUTH_TEST_LIBS)
# balance.test: the phase with an SP stalled, and its counters in one Python start
EXTRA_DIST += tests/netns/balance-stall.sh tests/netns/grstat.py
# authd/engine_balance.c: a header's retransmitted Auth-REQ goes to another SP, after bursts too
check_PROGRAMS += tests/unit/test_engine_balance
TESTS += tests/unit/test_engine_balance
tests_unit_test_engine_balance_SOURCES = tests/unit/test_engine_balance.c authd/engine_balance.c
tests_unit_test_engine_balance_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(SQLITE3_CFLAGS) \
	$(SODIUM_CFLAGS) $(MHD_CFLAGS) -I$(top_srcdir)/authd
tests_unit_test_engine_balance_LDADD = $(AUTHD_LIBS) $(CMOCKA_LIBS)

# authd/engine_nfqstat.c: coopnet-nfq's counters merged from listings of changes equal the
# whole listings (issue 11 s. 3, the per-interval traffic poll)
check_PROGRAMS += tests/unit/test_engine_traffic
TESTS += tests/unit/test_engine_traffic
tests_unit_test_engine_traffic_SOURCES = tests/unit/test_engine_traffic.c authd/engine_nfqstat.c
tests_unit_test_engine_traffic_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(SQLITE3_CFLAGS) \
	$(SODIUM_CFLAGS) $(MHD_CFLAGS) -I$(top_srcdir)/authd
tests_unit_test_engine_traffic_LDADD = $(AUTHD_LIBS) $(CMOCKA_LIBS)

# authd/engine_load.c: the provider's load sums kept from the changes equal the walk of every
# stored session (issue 11 s. 3), on a real database and the real copy of the counters
check_PROGRAMS += tests/unit/test_engine_load
TESTS += tests/unit/test_engine_load
tests_unit_test_engine_load_SOURCES = tests/unit/test_engine_load.c authd/engine_load.c \
	authd/engine_nfqstat.c
tests_unit_test_engine_load_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(SQLITE3_CFLAGS) \
	$(SODIUM_CFLAGS) $(MHD_CFLAGS) -I$(top_srcdir)/authd
tests_unit_test_engine_load_LDADD = $(AUTHD_LIBS) $(CMOCKA_LIBS)
tests_unit_test_engine_load_LDFLAGS = $(AM_LDFLAGS) -Wl,--wrap=db_session_foreach

# authd/auth_ss.c and its index (auth_ss_index.c) with thousands of exchanges at once: the
# nonce and (client, service) indexes, slot reuse, a full table, the earliest deadline,
# auth_ss_recent (issue 11 s. 7)
check_PROGRAMS += tests/unit/test_auth_ss_many
TESTS += tests/unit/test_auth_ss_many
tests_unit_test_auth_ss_many_SOURCES = tests/unit/test_auth_ss_many.c
tests_unit_test_auth_ss_many_CFLAGS = $(TEST_CFLAGS) -I$(top_srcdir)/authd
tests_unit_test_auth_ss_many_LDADD = $(AUTH_TEST_LIBS)
# The SP with thousands of pending exchanges: retransmissions and time-outs on time (lib/dheap)
check_PROGRAMS += tests/unit/test_auth_sp_many
TESTS += tests/unit/test_auth_sp_many
tests_unit_test_auth_sp_many_SOURCES = tests/unit/test_auth_sp_many.c
tests_unit_test_auth_sp_many_CFLAGS = $(TEST_CFLAGS) -I$(top_srcdir)/authd
tests_unit_test_auth_sp_many_LDADD = $(AUTH_TEST_LIBS)
# lib/rndpool.c: libsodium's random bytes from a pool (one getrandom per 4 KiB, fork-safe)
check_PROGRAMS += tests/unit/test_rndpool
TESTS += tests/unit/test_rndpool
tests_unit_test_rndpool_SOURCES = tests/unit/test_rndpool.c
tests_unit_test_rndpool_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_rndpool_LDADD = lib/libcoopnet.a $(SODIUM_LIBS) $(CMOCKA_LIBS)
# lib/addrtext.c and cn_coop_addr_format: inet_ntop's and snprintf's text without printf
check_PROGRAMS += tests/unit/test_addrtext
TESTS += tests/unit/test_addrtext
tests_unit_test_addrtext_SOURCES = tests/unit/test_addrtext.c
tests_unit_test_addrtext_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_addrtext_LDADD = lib/libcoopnet.a $(SODIUM_LIBS) $(CMOCKA_LIBS)
