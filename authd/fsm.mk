# authd/fsm.mk: the Authentication state machines (pure code, no I/O), used by coopnet-authd.
# Kept apart from authd/local.mk (the daemon's) so the two can be merged without conflicts.
noinst_LIBRARIES += authd/libauthfsm.a
authd_libauthfsm_a_SOURCES = \
	authd/auth_fsm.h authd/auth_int.h \
	authd/auth_common.c authd/auth_ss.c authd/auth_header.c authd/auth_sp.c \
	authd/auth_revoke.c
# Link: authd/libauthfsm.a lib/libcoopnet.a $(SODIUM_LIBS)
