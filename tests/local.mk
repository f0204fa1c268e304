# tests/: cmocka unit tests (make check), libFuzzer targets (--enable-fuzzing) and the
# network-namespace integration tests (tests/netns, run by scripts/test.sh as root).
TEST_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
TEST_LIBS = lib/libcoopnet.a $(CMOCKA_LIBS)

check_PROGRAMS += tests/unit/test_packet tests/unit/test_id
TESTS += tests/unit/test_packet tests/unit/test_id

tests_unit_test_packet_SOURCES = tests/unit/test_packet.c tests/unit/pktgen.c tests/unit/pktgen.h
tests_unit_test_packet_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_packet_LDADD = $(TEST_LIBS)

tests_unit_test_id_SOURCES = tests/unit/test_id.c
tests_unit_test_id_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_id_LDADD = $(TEST_LIBS)

if ENABLE_FUZZING
noinst_PROGRAMS += tests/fuzz/fuzz_packet
tests_fuzz_fuzz_packet_SOURCES = tests/fuzz/fuzz_packet.c
tests_fuzz_fuzz_packet_LDADD = lib/libcoopnet.a
tests_fuzz_fuzz_packet_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
endif

# vNIC reconciler and Apache vhosts (lib/vnic.c, lib/vhost.c)
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
EXTRA_DIST += tests/netns/vnic.test
