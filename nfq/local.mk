# nfq/: coopnet-nfq, the NFQUEUE data-plane worker (docs/nfq.md).
sbin_PROGRAMS += nfq/coopnet-nfq
noinst_LIBRARIES += nfq/libnfqcore.a

# The pure parts (table, logic, config, snapshot swap), shared with the unit tests.
nfq_libnfqcore_a_SOURCES = \
	nfq/table.c nfq/table.h \
	nfq/held.c nfq/heldnotes.c nfq/held.h \
	nfq/sesstab.c nfq/sesstab_bulk.c nfq/sesstab_int.h \
	nfq/stage.c nfq/stage.h \
	nfq/logic.c nfq/logic.h \
	nfq/rcu.c nfq/rcu.h \
	nfq/nfqconf.c nfq/nfqconf.h \
	schemas/nfq.schema.json
nfq_libnfqcore_a_CFLAGS = $(AM_CFLAGS) $(LIBNFQ_CFLAGS)
dist_schemas_DATA += schemas/nfq.schema.json

nfq_coopnet_nfq_SOURCES = \
	nfq/main.c nfq/nfqd.h nfq/control.c nfq/publish.c \
	nfq/worker.c nfq/worker.h \
	nfq/nftrule.c nfq/nftrule.h \
	nfq/kmrules.c nfq/kmsets.c nfq/kmstats.c nfq/kmdelta.c nfq/kmsync.c nfq/kmsvc.c nfq/kmode_int.h nfq/kernelmode.h
nfq_coopnet_nfq_CFLAGS = $(AM_CFLAGS) $(PTHREAD_CFLAGS) $(LIBNFQ_CFLAGS) $(LIBMNL_CFLAGS) \
	$(LIBNFTNL_CFLAGS)
nfq_coopnet_nfq_LDADD = nfq/libnfqcore.a lib/libcoopnet.a $(LIBNFQ_LIBS) $(LIBMNL_LIBS) \
	$(LIBNFTNL_LIBS) $(JANSSON_LIBS) $(PTHREAD_LIBS) $(LIBSYSTEMD_LIBS)


# Unit tests of the pure parts.
check_PROGRAMS += tests/unit/test_nfq_logic tests/unit/test_nfq_table
TESTS += tests/unit/test_nfq_logic tests/unit/test_nfq_table
check_PROGRAMS += tests/unit/test_nfq_stage
TESTS += tests/unit/test_nfq_stage
tests_unit_test_nfq_stage_SOURCES = tests/unit/test_nfq_stage.c
tests_unit_test_nfq_stage_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/nfq
tests_unit_test_nfq_stage_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_nfq_stage_LDADD = nfq/libnfqcore.a $(TEST_LIBS) $(JANSSON_LIBS)
tests_unit_test_nfq_logic_SOURCES = tests/unit/test_nfq_logic.c tests/unit/pktgen.c \
	tests/unit/pktgen.h
tests_unit_test_nfq_logic_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/nfq
tests_unit_test_nfq_logic_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_nfq_logic_LDADD = nfq/libnfqcore.a $(TEST_LIBS) $(JANSSON_LIBS)
tests_unit_test_nfq_table_SOURCES = tests/unit/test_nfq_table.c
tests_unit_test_nfq_table_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/nfq
tests_unit_test_nfq_table_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_nfq_table_LDADD = nfq/libnfqcore.a $(TEST_LIBS) $(JANSSON_LIBS)

dist_doc_DATA += docs/nfq.md docs/performance.md
nftrulesdir = $(datadir)/coopnet/nft-rules
dist_nftrules_SCRIPTS = nft-rules/supervisor.nft nft-rules/provider.nft \
	nft-rules/supervisor-kernel.nft nft-rules/provider-kernel.nft
EXTRA_DIST += bench/throughput.sh tests/netns/nfq-queue.test tests/netns/nfq-kernel.test tests/netns/nfq-kernel-sync.test tests/netns/nfq-payload.test tests/netns/nfq-failopen.test \
	tests/netns/nfq-dataplane.sh tests/netns/nfq-lib.sh tests/netns/nfqctl.py \
	tests/netns/pcapcheck.py tests/netns/sendseg.py bench/cpucost.sh bench/hookshare.py bench/cpushare.py

if ENABLE_FUZZING
noinst_PROGRAMS += tests/fuzz/fuzz_nfq_logic
tests_fuzz_fuzz_nfq_logic_SOURCES = tests/fuzz/fuzz_nfq_logic.c tests/fuzz/fuzzcheck.h
tests_fuzz_fuzz_nfq_logic_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/nfq
tests_fuzz_fuzz_nfq_logic_LDADD = nfq/libnfqcore.a lib/libcoopnet.a $(JANSSON_LIBS)
tests_fuzz_fuzz_nfq_logic_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
noinst_PROGRAMS += tests/fuzz/fuzz_nfq_control
tests_fuzz_fuzz_nfq_control_SOURCES = tests/fuzz/fuzz_nfq_control.c tests/fuzz/fuzzcheck.h \
	nfq/control.c nfq/publish.c nfq/worker.c nfq/nftrule.c nfq/kmrules.c nfq/kmsets.c \
	nfq/kmstats.c nfq/kmdelta.c nfq/kmsync.c nfq/kmsvc.c
tests_fuzz_fuzz_nfq_control_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/nfq
tests_fuzz_fuzz_nfq_control_CFLAGS = $(AM_CFLAGS) $(PTHREAD_CFLAGS) $(LIBNFQ_CFLAGS) \
	$(LIBMNL_CFLAGS) $(LIBNFTNL_CFLAGS)
tests_fuzz_fuzz_nfq_control_LDADD = nfq/libnfqcore.a lib/libcoopnet.a $(LIBNFQ_LIBS) \
	$(LIBMNL_LIBS) $(LIBNFTNL_LIBS) $(JANSSON_LIBS) $(PTHREAD_LIBS) $(LIBSYSTEMD_LIBS)
tests_fuzz_fuzz_nfq_control_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
noinst_PROGRAMS += tests/fuzz/fuzz_nfqconf
tests_fuzz_fuzz_nfqconf_SOURCES = tests/fuzz/fuzz_nfqconf.c
tests_fuzz_fuzz_nfqconf_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/nfq
tests_fuzz_fuzz_nfqconf_LDADD = nfq/libnfqcore.a lib/libcoopnet.a $(JANSSON_LIBS)
tests_fuzz_fuzz_nfqconf_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
endif
EXTRA_DIST += tests/netns/sync.test

# The live session table at scale, with reader threads (nfq/sesstab.c).
check_PROGRAMS += tests/unit/test_nfq_sesstab
TESTS += tests/unit/test_nfq_sesstab
tests_unit_test_nfq_sesstab_SOURCES = tests/unit/test_nfq_sesstab.c
tests_unit_test_nfq_sesstab_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/nfq
tests_unit_test_nfq_sesstab_CFLAGS = $(TEST_CFLAGS) $(PTHREAD_CFLAGS)
tests_unit_test_nfq_sesstab_LDADD = nfq/libnfqcore.a $(TEST_LIBS) $(JANSSON_LIBS) $(PTHREAD_LIBS)

# Reload on a real config file and the live table (nfq/publish.c; kernel mode linked, not run).
check_PROGRAMS += tests/unit/test_nfq_reload
TESTS += tests/unit/test_nfq_reload
tests_unit_test_nfq_reload_SOURCES = tests/unit/test_nfq_reload.c nfq/publish.c \
	nfq/kmrules.c nfq/kmsets.c nfq/kmstats.c nfq/kmdelta.c nfq/kmsync.c nfq/kmsvc.c nfq/nftrule.c
tests_unit_test_nfq_reload_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/nfq
tests_unit_test_nfq_reload_CFLAGS = $(TEST_CFLAGS) $(PTHREAD_CFLAGS) $(LIBNFQ_CFLAGS) \
	$(LIBMNL_CFLAGS) $(LIBNFTNL_CFLAGS)
tests_unit_test_nfq_reload_LDADD = nfq/libnfqcore.a $(TEST_LIBS) $(LIBMNL_LIBS) \
	$(LIBNFTNL_LIBS) $(JANSSON_LIBS) $(PTHREAD_LIBS)

# nfq/control.c's commands through lib's control-socket server, with the real publish and
# reload (nfq/publish.c) and the live table (libnfqcore); every other file of coopnet-nfq but
# main.c is linked as the daemon links it.
check_PROGRAMS += tests/unit/test_nfq_control
TESTS += tests/unit/test_nfq_control
tests_unit_test_nfq_control_SOURCES = tests/unit/test_nfq_control.c \
	nfq/nfqd.h nfq/control.c nfq/publish.c nfq/worker.c nfq/worker.h nfq/nftrule.c \
	nfq/nftrule.h nfq/kmrules.c nfq/kmsets.c nfq/kmstats.c nfq/kmdelta.c nfq/kmsync.c nfq/kmsvc.c nfq/kernelmode.h nfq/kmode_int.h
tests_unit_test_nfq_control_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/nfq
tests_unit_test_nfq_control_CFLAGS = $(TEST_CFLAGS) $(PTHREAD_CFLAGS) $(LIBNFQ_CFLAGS) \
	$(LIBMNL_CFLAGS) $(LIBNFTNL_CFLAGS)
tests_unit_test_nfq_control_LDADD = nfq/libnfqcore.a $(TEST_LIBS) $(LIBNFQ_LIBS) \
	$(LIBMNL_LIBS) $(LIBNFTNL_LIBS) $(JANSSON_LIBS) $(PTHREAD_LIBS) $(LIBSYSTEMD_LIBS)
# Kernel mode below the integration tests (key bytes, set sync, service copy; the kernel as
# root in a private network namespace).
check_PROGRAMS += tests/unit/test_nfq_kmode
TESTS += tests/unit/test_nfq_kmode
tests_unit_test_nfq_kmode_SOURCES = tests/unit/test_nfq_kmode.c tests/unit/kmtest.c \
	tests/unit/kmtest.h nfq/nftrule.c nfq/kmrules.c \
	nfq/kmsets.c nfq/kmstats.c nfq/kmdelta.c nfq/kmsync.c nfq/kmsvc.c
tests_unit_test_nfq_kmode_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/nfq
tests_unit_test_nfq_kmode_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_nfq_kmode_LDADD = nfq/libnfqcore.a $(TEST_LIBS) $(LIBNFTNL_LIBS) $(LIBMNL_LIBS) \
	$(JANSSON_LIBS)
# The full sync beyond one batch, and what the updates keep (counters, prev's timeouts).
check_PROGRAMS += tests/unit/test_nfq_kmsync
TESTS += tests/unit/test_nfq_kmsync
tests_unit_test_nfq_kmsync_SOURCES = tests/unit/test_nfq_kmsync.c tests/unit/kmtest.c \
	tests/unit/kmtest.h nfq/nftrule.c nfq/kmrules.c \
	nfq/kmsets.c nfq/kmstats.c nfq/kmdelta.c nfq/kmsync.c nfq/kmsvc.c
tests_unit_test_nfq_kmsync_CPPFLAGS = $(tests_unit_test_nfq_kmode_CPPFLAGS)
tests_unit_test_nfq_kmsync_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_nfq_kmsync_LDADD = $(tests_unit_test_nfq_kmode_LDADD)
# an inconsistent dump on demand (test_sync_inconsistent_dump)
tests_unit_test_nfq_kmsync_LDFLAGS = $(AM_LDFLAGS) -Wl,--wrap=nftnl_set_elems_iter_create \
	-Wl,--wrap=nftnl_set_elems_iter_next
# the group setup of both (a private network namespace), shared with test_ssnat and test_vswitch
tests_unit_test_nfq_kmode_SOURCES += tests/unit/netns_setup.c tests/unit/netns_setup.h
tests_unit_test_nfq_kmsync_SOURCES += tests/unit/netns_setup.c tests/unit/netns_setup.h


# lib/metrics.c, the Prometheus renderer (docs/metrics.md), and a HELP for every counter of
# coopnet-nfq (nfq_reason_name).
check_PROGRAMS += tests/unit/test_metrics
TESTS += tests/unit/test_metrics
tests_unit_test_metrics_SOURCES = tests/unit/test_metrics.c
tests_unit_test_metrics_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/nfq
tests_unit_test_metrics_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_metrics_LDADD = nfq/libnfqcore.a $(TEST_LIBS) $(JANSSON_LIBS)

# The held SYNs of a queue thread and the notes that release them (nfq/held.c, heldnotes.c).
check_PROGRAMS += tests/unit/test_nfq_held
TESTS += tests/unit/test_nfq_held
tests_unit_test_nfq_held_SOURCES = tests/unit/test_nfq_held.c
tests_unit_test_nfq_held_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/nfq
tests_unit_test_nfq_held_CFLAGS = $(TEST_CFLAGS) $(PTHREAD_CFLAGS)
tests_unit_test_nfq_held_LDADD = nfq/libnfqcore.a $(TEST_LIBS) $(JANSSON_LIBS) $(PTHREAD_LIBS)
