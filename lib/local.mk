# lib/: code shared by coopnet-nfq, coopnet-authd and coopnetctl. Pure where it can be.
noinst_LIBRARIES += lib/libcoopnet.a
lib_libcoopnet_a_SOURCES = \
	lib/csum.c lib/csum.h \
	lib/id.c lib/id.h \
	lib/log.c lib/log.h \
	lib/packet.c lib/packet.h
# vNICs (macvlan over rtnetlink, libmnl) and their Apache vhosts; users link $(LIBMNL_LIBS)
lib_libcoopnet_a_SOURCES += lib/vnic.c lib/vnic.h lib/vhost.c lib/vhost.h
