# authd/: coopnet-authd (the daemon around the protocol core of authd/fsm.mk), its
# database, policy engine and privilege separation; tests for them.
noinst_LIBRARIES += authd/libauthd.a
authd_libauthd_a_SOURCES = \
	authd/db.c authd/db.h authd/db_int.h authd/db_migrate.c authd/db_profile.c \
	authd/db_session.c authd/db_index.c authd/db_replay.c authd/db_rindex.c authd/db_walbuf.c authd/db_status.c authd/status_db.c authd/status_db.h \
	authd/config.c authd/policy.h authd/policy_int.h authd/policy_field.c \
	authd/policy_parse.c authd/policy_provider.c authd/policy_health.c authd/policy_secret.c \
	authd/policy_json.c authd/policy_lookup.c authd/policy_members.c authd/policy_membership.c \
	authd/config_metrics.c authd/ssnat.c authd/ssnat.h authd/ssnat_nft.c \
	authd/sesslist.c authd/sesslist.h \
	schemas/authd.schema.json schemas/policy.schema.json
authd_libauthd_a_CFLAGS = $(AM_CFLAGS) $(SQLITE3_CFLAGS) $(SODIUM_CFLAGS)
dist_schemas_DATA += schemas/authd.schema.json schemas/policy.schema.json

AUTHD_LIBS = authd/libgroup.a authd/libauthd.a authd/libauthfsm.a authd/libstatus.a lib/libcoopnet.a \
	$(SQLITE3_LIBS) $(SODIUM_LIBS) $(JANSSON_LIBS) $(LIBNFTNL_LIBS) $(LIBMNL_LIBS) \
	$(SECCOMP_LIBS) $(MHD_LIBS)

sbin_PROGRAMS += authd/coopnet-authd
authd_coopnet_authd_SOURCES = \
	authd/authd.c authd/authd.h \
	authd/engine.c authd/engine.h authd/engine_auth.c authd/engine_ctl.c authd/engine_turn.c authd/engine_gate.c \
	authd/coop_app.h authd/group_view.h authd/engine_dispatch.c authd/engine_revoke.c authd/engine_start.c \
	authd/imsg.c authd/imsg.h authd/privsep.c authd/nfqlink.c authd/nfqlink.h authd/nfq_traffic.c authd/relaylink.c \
	authd/parent_msg.c authd/parent_msg.h authd/link_poll.c authd/link_poll.h authd/keyset.c authd/keyset.h \
	authd/sandbox.c authd/sandbox.h \
	authd/provision.c authd/provision.h authd/vswitch.c authd/vswitch_nft.c authd/vswitch.h \
	authd/engine_status.c authd/engine_status.h authd/engine_health.c authd/engine_nfqstat.c \
	authd/engine_link.c authd/engine_load.c \
	authd/engine_ctl_status.c authd/engine_member.c authd/engine_balance.c authd/engine_probe.c \
	authd/engine_probe.h authd/probe_raw.c authd/probe_raw.h authd/engine_metrics.c \
	authd/engine_group.c authd/engine_idle.c
authd_coopnet_authd_CFLAGS = $(AM_CFLAGS) $(SQLITE3_CFLAGS) $(SODIUM_CFLAGS) $(SECCOMP_CFLAGS) \
	$(MHD_CFLAGS)
authd_coopnet_authd_LDADD = $(AUTHD_LIBS) $(LIBSYSTEMD_LIBS)

# Schema 4: migration from schema 3 with data, the status tables (db_status.c).
check_PROGRAMS += tests/unit/test_db_status
TESTS += tests/unit/test_db_status
tests_unit_test_db_status_SOURCES = tests/unit/test_db_status.c
tests_unit_test_db_status_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(SQLITE3_CFLAGS)
tests_unit_test_db_status_LDADD = $(AUTHD_LIBS) $(CMOCKA_LIBS)

# The status machines writing real databases (authd/status_db.c).
check_PROGRAMS += tests/unit/test_status_db
TESTS += tests/unit/test_status_db
tests_unit_test_status_db_SOURCES = tests/unit/test_status_db.c
tests_unit_test_status_db_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(SQLITE3_CFLAGS) -I$(top_srcdir)/authd
tests_unit_test_status_db_LDADD = $(AUTHD_LIBS) $(CMOCKA_LIBS)

# Unit tests. test_db wraps sqlite3_step/sqlite3_prepare_v2 to force failures.
check_PROGRAMS += tests/unit/test_db tests/unit/test_policy
TESTS += tests/unit/test_db tests/unit/test_policy
tests_unit_test_db_SOURCES = tests/unit/test_db.c
tests_unit_test_db_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(SQLITE3_CFLAGS)
tests_unit_test_db_LDFLAGS = $(AM_LDFLAGS) -Wl,--wrap=sqlite3_step -Wl,--wrap=sqlite3_prepare_v2
tests_unit_test_db_LDADD = $(AUTHD_LIBS) $(CMOCKA_LIBS)

# The WAL's writes gathered (authd/db_walbuf.c): readers, a killed writer, a failed write.
check_PROGRAMS += tests/unit/test_db_walbuf
TESTS += tests/unit/test_db_walbuf
tests_unit_test_db_walbuf_SOURCES = tests/unit/test_db_walbuf.c
tests_unit_test_db_walbuf_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(SQLITE3_CFLAGS) -I$(top_srcdir)/authd
tests_unit_test_db_walbuf_LDADD = $(AUTHD_LIBS) $(CMOCKA_LIBS)

tests_unit_test_policy_SOURCES = tests/unit/test_policy.c
tests_unit_test_policy_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(SODIUM_CFLAGS) \
	-DSRCDIR='"$(abs_top_srcdir)"'
tests_unit_test_policy_LDADD = $(AUTHD_LIBS) $(CMOCKA_LIBS)

EXTRA_DIST += policy tests/netns/auth.test tests/netns/e2e.test tests/netns/coop-lib.sh \
	tests/netns/dp-restart.test tests/netns/spoof.test tests/netns/spoofreq.py \
	tests/netns/first-page.test

# The configuration and policy parsers under libFuzzer (seeds: tests/fuzz/make_conf_corpus.py)
if ENABLE_FUZZING
noinst_PROGRAMS += tests/fuzz/fuzz_policy
tests_fuzz_fuzz_policy_SOURCES = tests/fuzz/fuzz_policy.c
tests_fuzz_fuzz_policy_CFLAGS = $(AM_CFLAGS) $(SODIUM_CFLAGS) -I$(top_srcdir)/authd
tests_fuzz_fuzz_policy_LDADD = $(AUTHD_LIBS)
tests_fuzz_fuzz_policy_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
# what the privileged parent takes from its engine (authd/parent_msg.c)
noinst_PROGRAMS += tests/fuzz/fuzz_parent_msg
tests_fuzz_fuzz_parent_msg_SOURCES = tests/fuzz/fuzz_parent_msg.c authd/parent_msg.c \
	authd/keyset.c authd/imsg.c authd/nfqlink.c authd/nfq_traffic.c authd/vswitch.c authd/vswitch_nft.c
tests_fuzz_fuzz_parent_msg_CFLAGS = $(AM_CFLAGS) $(SODIUM_CFLAGS) -I$(top_srcdir)/authd
tests_fuzz_fuzz_parent_msg_LDADD = $(AUTHD_LIBS)
tests_fuzz_fuzz_parent_msg_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
endif
# coopnet-nfq's per-session counters: the parent's nfq_traffic_entry and the engine's parser.
if ENABLE_FUZZING
noinst_PROGRAMS += tests/fuzz/fuzz_nfq_traffic
tests_fuzz_fuzz_nfq_traffic_SOURCES = tests/fuzz/fuzz_nfq_traffic.c authd/nfq_traffic.c \
	authd/engine_nfqstat.c
tests_fuzz_fuzz_nfq_traffic_CFLAGS = $(AM_CFLAGS) $(SODIUM_CFLAGS) $(SQLITE3_CFLAGS) -I$(top_srcdir)/authd
tests_fuzz_fuzz_nfq_traffic_LDADD = $(AUTHD_LIBS)
tests_fuzz_fuzz_nfq_traffic_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
endif
EXTRA_DIST += tests/fuzz/make_conf_corpus.py tests/fuzz/corpus/policy tests/fuzz/corpus/nfqconf \
	tests/fuzz/make_parent_msg_corpus.py tests/fuzz/corpus/parent_msg tests/fuzz/corpus/nfq_traffic

# The engine whole (control commands, data-plane pushes) with an injected clock, against a
# fake coopnet-nfq on a real unix socket; db_session_foreach fails on demand.
check_PROGRAMS += tests/unit/test_engine
TESTS += tests/unit/test_engine
ENGINE_SOURCES = authd/engine.c authd/engine_auth.c authd/engine_ctl.c authd/engine_turn.c authd/engine_gate.c \
	authd/engine_dispatch.c authd/engine_revoke.c authd/engine_start.c authd/nfqlink.c authd/nfq_traffic.c \
	authd/imsg.c authd/privsep.c authd/parent_msg.c authd/keyset.c authd/vswitch.c authd/vswitch_nft.c \
	authd/sandbox.c authd/relaylink.c authd/engine_status.c authd/engine_health.c \
	authd/engine_nfqstat.c authd/engine_link.c authd/engine_load.c authd/engine_ctl_status.c \
	authd/engine_member.c authd/engine_probe.c authd/engine_metrics.c authd/engine_balance.c \
	authd/engine_group.c authd/engine_idle.c
tests_unit_test_engine_SOURCES = tests/unit/test_engine.c tests/unit/fake_nfq.c \
	tests/unit/fake_nfq.h $(ENGINE_SOURCES)
tests_unit_test_engine_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(SQLITE3_CFLAGS) \
	$(SODIUM_CFLAGS) $(PTHREAD_CFLAGS) $(MHD_CFLAGS) -I$(top_srcdir)/authd
tests_unit_test_engine_LDFLAGS = $(AM_LDFLAGS) -Wl,--wrap=db_session_foreach \
	-Wl,--wrap=db_commit -Wl,--wrap=db_session_count -Wl,--wrap=db_session_range \
	-Wl,--wrap=db_session_foreach_client
tests_unit_test_engine_LDADD = $(AUTHD_LIBS) $(CMOCKA_LIBS) $(PTHREAD_LIBS)

# The virtual switch (nft text, sessions, nft -f through a stand-in and, as root in a private
# network namespace, the real nft) and vNIC provisioning from a policy (specs, errors naming
# the entry, rollback of a failed start; real rtnetlink in a private namespace as root).
check_PROGRAMS += tests/unit/test_vswitch tests/unit/test_provision
TESTS += tests/unit/test_vswitch tests/unit/test_provision
tests_unit_test_vswitch_SOURCES = tests/unit/test_vswitch.c authd/vswitch.c authd/vswitch_nft.c \
	tests/unit/netns_setup.c tests/unit/netns_setup.h
tests_unit_test_vswitch_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) -I$(top_srcdir)/authd
tests_unit_test_vswitch_LDADD = $(AUTHD_LIBS) $(CMOCKA_LIBS)
tests_unit_test_provision_SOURCES = tests/unit/test_provision.c authd/provision.c
tests_unit_test_provision_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) -I$(top_srcdir)/authd
tests_unit_test_provision_LDADD = $(AUTHD_LIBS) $(CMOCKA_LIBS)

# The engine's entry for cooperative datagrams: the handler table, unknown applications,
# the mac checked before any handler (authd/engine_dispatch.c).
check_PROGRAMS += tests/unit/test_dispatch
TESTS += tests/unit/test_dispatch
tests_unit_test_dispatch_SOURCES = tests/unit/test_dispatch.c $(ENGINE_SOURCES)
tests_unit_test_dispatch_CFLAGS = $(tests_unit_test_engine_CFLAGS)
tests_unit_test_dispatch_LDADD = $(AUTHD_LIBS) $(CMOCKA_LIBS) $(PTHREAD_LIBS)

# The parent/engine messages over a real socketpair (authd/imsg.c).
check_PROGRAMS += tests/unit/test_imsg
TESTS += tests/unit/test_imsg
tests_unit_test_imsg_SOURCES = tests/unit/test_imsg.c authd/imsg.c
tests_unit_test_imsg_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(JANSSON_CFLAGS) -I$(top_srcdir)/authd
tests_unit_test_imsg_LDADD = lib/libcoopnet.a $(JANSSON_LIBS) $(CMOCKA_LIBS)

# The parent against a hostile engine: every malformed, oversized, unexpected or out-of-policy
# message refused, counted, the parent up, the (fake, real-socket) data plane unchanged.
check_PROGRAMS += tests/unit/test_parent
TESTS += tests/unit/test_parent
tests_unit_test_parent_SOURCES = tests/unit/test_parent.c tests/unit/fake_nfq.c \
	tests/unit/fake_nfq.h authd/parent_msg.c authd/keyset.c authd/imsg.c authd/nfqlink.c authd/nfq_traffic.c \
	authd/vswitch.c authd/vswitch_nft.c
tests_unit_test_parent_CFLAGS = $(tests_unit_test_engine_CFLAGS)
tests_unit_test_parent_LDADD = $(AUTHD_LIBS) $(CMOCKA_LIBS) $(PTHREAD_LIBS)

# SP groups: the SS's DNAT (sessions -> elements; the real table in a private namespace as
# root) and the group fields of the policy.
check_PROGRAMS += tests/unit/test_ssnat
TESTS += tests/unit/test_ssnat
tests_unit_test_ssnat_SOURCES = tests/unit/test_ssnat.c tests/unit/netns_setup.c \
	tests/unit/netns_setup.h
tests_unit_test_ssnat_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(SODIUM_CFLAGS) -I$(top_srcdir)/authd
tests_unit_test_ssnat_LDADD = $(AUTHD_LIBS) $(CMOCKA_LIBS)

# Group messages: codec, signatures, the header's member view with an injected clock.
check_PROGRAMS += tests/unit/test_group
TESTS += tests/unit/test_group
tests_unit_test_group_SOURCES = tests/unit/test_group.c
tests_unit_test_group_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(SODIUM_CFLAGS) -I$(top_srcdir)/authd
tests_unit_test_group_LDADD = $(AUTHD_LIBS) $(CMOCKA_LIBS)
FUZZ_TARGETS += group
if ENABLE_FUZZING
noinst_PROGRAMS += tests/fuzz/fuzz_group
tests_fuzz_fuzz_group_SOURCES = tests/fuzz/fuzz_group.c
tests_fuzz_fuzz_group_CFLAGS = $(AM_CFLAGS) $(SODIUM_CFLAGS) -I$(top_srcdir)/authd
tests_fuzz_fuzz_group_LDADD = $(AUTHD_LIBS)
tests_fuzz_fuzz_group_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
endif
EXTRA_DIST += tests/fuzz/make_group_corpus.py tests/fuzz/corpus/group
# the attacker of tests/netns/membership.test (run as root by scripts/test.sh)
noinst_PROGRAMS += tests/netns/group-tool
tests_netns_group_tool_SOURCES = tests/netns/group-tool.c
tests_netns_group_tool_CFLAGS = $(AM_CFLAGS) $(SODIUM_CFLAGS)
tests_netns_group_tool_LDADD = lib/libcoopnet.a $(SODIUM_LIBS)
EXTRA_DIST += tests/netns/membership.test tests/netns/groupcap.py

# The policy of group messages (authd/policy_membership.c).
check_PROGRAMS += tests/unit/test_policy_membership
TESTS += tests/unit/test_policy_membership
tests_unit_test_policy_membership_SOURCES = tests/unit/test_policy_membership.c
tests_unit_test_policy_membership_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(SODIUM_CFLAGS) -I$(top_srcdir)/authd
tests_unit_test_policy_membership_LDADD = $(AUTHD_LIBS) $(CMOCKA_LIBS)

# `coopnetctl group`: the engine's JSON (authd/group_json.c) and coopnetctl's arguments and
# tables (ctl/group_view.c).
check_PROGRAMS += tests/unit/test_group_view
TESTS += tests/unit/test_group_view
tests_unit_test_group_view_SOURCES = tests/unit/test_group_view.c ctl/group_view.c
tests_unit_test_group_view_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(SODIUM_CFLAGS) \
	-I$(top_srcdir)/authd -I$(top_srcdir)
tests_unit_test_group_view_LDADD = $(AUTHD_LIBS) $(CMOCKA_LIBS)
# what coopnetctl group takes from the daemon (and its arguments) under libFuzzer
FUZZ_TARGETS += group_view
EXTRA_DIST += tests/fuzz/corpus/group_view
if ENABLE_FUZZING
noinst_PROGRAMS += tests/fuzz/fuzz_group_view
tests_fuzz_fuzz_group_view_SOURCES = tests/fuzz/fuzz_group_view.c ctl/group_view.c
tests_fuzz_fuzz_group_view_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)
tests_fuzz_fuzz_group_view_LDADD = lib/libcoopnet.a $(JANSSON_LIBS)
tests_fuzz_fuzz_group_view_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
endif
