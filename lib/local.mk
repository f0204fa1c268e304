# lib/: code shared by coopnet-nfq, coopnet-authd and coopnetctl. Pure where it can be.
noinst_LIBRARIES += lib/libcoopnet.a
lib_libcoopnet_a_SOURCES = \
	lib/csum.c lib/csum.h \
	lib/id.c lib/id.h \
	lib/ctl.c lib/ctl.h \
	lib/log.c lib/log.h \
	lib/packet.c lib/packet.h
# The cooperative datagram and the Authentication crypto (libsodium; link $(SODIUM_LIBS)).
lib_libcoopnet_a_SOURCES += lib/coop.c lib/coop.h lib/authcrypto.c lib/authcrypto.h
AM_CFLAGS += $(SODIUM_CFLAGS)
