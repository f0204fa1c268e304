# authd/: coopnet-authd (the daemon around the protocol core of authd/fsm.mk), its
# database, policy engine and privilege separation; tests for them.
noinst_LIBRARIES += authd/libauthd.a
authd_libauthd_a_SOURCES = \
	authd/db.c authd/db.h
authd_libauthd_a_CFLAGS = $(AM_CFLAGS) $(SQLITE3_CFLAGS) $(SODIUM_CFLAGS)

AUTHD_LIBS = authd/libauthd.a lib/libcoopnet.a $(SQLITE3_LIBS) $(SODIUM_LIBS) $(JANSSON_LIBS)

# Unit tests. test_db wraps sqlite3_step/sqlite3_prepare_v2 to force failures.
check_PROGRAMS += tests/unit/test_db
TESTS += tests/unit/test_db
tests_unit_test_db_SOURCES = tests/unit/test_db.c
tests_unit_test_db_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(SQLITE3_CFLAGS)
tests_unit_test_db_LDFLAGS = $(AM_LDFLAGS) -Wl,--wrap=sqlite3_step -Wl,--wrap=sqlite3_prepare_v2
tests_unit_test_db_LDADD = $(AUTHD_LIBS) $(CMOCKA_LIBS)
