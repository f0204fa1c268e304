# relay/: coopnet-relay, the TLS relays of confidential services (docs/relay.md).
sbin_PROGRAMS += relay/coopnet-relay
relay_coopnet_relay_SOURCES = relay/main.c relay/relay.h relay/keys.c relay/tls.c
relay_coopnet_relay_CFLAGS = $(AM_CFLAGS) $(OPENSSL_CFLAGS) $(PTHREAD_CFLAGS)
relay_coopnet_relay_LDADD = lib/libcoopnet.a $(OPENSSL_LIBS) $(SODIUM_LIBS) $(PTHREAD_LIBS)

# The key derivation, the key message codec and the key table (cmocka).
check_PROGRAMS += tests/unit/test_confkey
TESTS += tests/unit/test_confkey
tests_unit_test_confkey_SOURCES = tests/unit/test_confkey.c relay/keys.c
tests_unit_test_confkey_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(PTHREAD_CFLAGS) -I$(top_srcdir)/relay
tests_unit_test_confkey_LDADD = lib/libcoopnet.a $(SODIUM_LIBS) $(CMOCKA_LIBS) $(PTHREAD_LIBS)

# libFuzzer: the relay's key message decoder and key table (make fuzz-smoke)
FUZZ_TARGETS += relaykey
if ENABLE_FUZZING
noinst_PROGRAMS += tests/fuzz/fuzz_relaykey
tests_fuzz_fuzz_relaykey_SOURCES = tests/fuzz/fuzz_relaykey.c relay/keys.c
tests_fuzz_fuzz_relaykey_CFLAGS = $(AM_CFLAGS) $(PTHREAD_CFLAGS) -I$(top_srcdir)/relay
tests_fuzz_fuzz_relaykey_LDADD = lib/libcoopnet.a $(SODIUM_LIBS) $(PTHREAD_LIBS)
tests_fuzz_fuzz_relaykey_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
endif
EXTRA_DIST += tests/fuzz/corpus/relaykey tests/netns/confidential.test tests/netns/relaykey.py
dist_nftrules_SCRIPTS += nft-rules/relay-ss.nft nft-rules/relay-sp.nft
dist_doc_DATA += docs/relay.md docs/probe.md
