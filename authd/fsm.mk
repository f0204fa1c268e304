# authd/fsm.mk: the Authentication state machines (pure code, no I/O), used by coopnet-authd.
# Kept apart from authd/local.mk (the daemon's) so the two can be merged without conflicts.
noinst_LIBRARIES += authd/libauthfsm.a
authd_libauthfsm_a_SOURCES = \
	authd/auth_fsm.h authd/auth_int.h \
	authd/auth_common.c authd/auth_ss.c authd/auth_ss_index.c authd/auth_ss_index.h \
	authd/auth_header.c authd/auth_sp.c \
	authd/auth_revoke.c
# Link: authd/libauthfsm.a lib/libcoopnet.a $(SODIUM_LIBS)

# The status application's state machine (pure) and the health checks (non-blocking
# sockets, injected clock): docs/protocol.md "The status application".
noinst_LIBRARIES += authd/libstatus.a
authd_libstatus_a_SOURCES = authd/status_fsm.c authd/status_fsm.h authd/health.c authd/health.h
# Link: authd/libstatus.a lib/libcoopnet.a $(SODIUM_LIBS)

# The group application's member view of a header SP (pure, injected clock):
# docs/protocol.md "The group application".
noinst_LIBRARIES += authd/libgroup.a
authd_libgroup_a_SOURCES = authd/group_fsm.c authd/group_fsm.h authd/group_json.c authd/group_json.h
authd_libgroup_a_CFLAGS = $(AM_CFLAGS) $(SODIUM_CFLAGS)
# Link: authd/libgroup.a authd/libauthd.a lib/libcoopnet.a $(SODIUM_LIBS)
