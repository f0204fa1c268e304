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
