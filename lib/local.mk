# lib/: code shared by coopnet-nfq, coopnet-authd and coopnetctl. Pure where it can be.
noinst_LIBRARIES += lib/libcoopnet.a
lib_libcoopnet_a_SOURCES = \
	lib/clock.h lib/hex.h lib/csum.c lib/csum.h \
	lib/grow.c lib/grow.h \
	lib/id.c lib/id.h \
	lib/ctl.c lib/ctl.h lib/ctl_packed.c lib/ctl_server.c \
	lib/log.c lib/log.h lib/logrl.c lib/logrl.h \
	lib/cli.c lib/cli.h lib/cfgpath.c lib/cfgpath.h lib/svcnotify.c lib/svcnotify.h \
	lib/metrics.c lib/metrics.h lib/metrics_help.c \
	lib/packet.c lib/packet.h lib/sockbuf.c lib/sockbuf.h

# JSON configuration loader (jconf.h) and its JSON Schema subset (docs/config.md).
lib_libcoopnet_a_SOURCES += lib/jconf.c lib/jconf.h lib/jconf_int.h lib/jconf_scan.c \
	lib/jschema.c \
	lib/jschema_int.h lib/jschema_format.c lib/jschema_validate.c
AM_CPPFLAGS += $(JANSSON_CFLAGS)

# Embedded schemas: listing schemas/NAME.schema.json among a program's _SOURCES compiles it in
# (scripts/embed.sh makes the C array coopnet_schema_NAME, see JCONF_SCHEMA_DECLARE in jconf.h):
#   coopnet_nfq_SOURCES += schemas/nfq.schema.json
# and link the program with $(JANSSON_LIBS). Schemas are also installed for reference:
#   dist_schemas_DATA += schemas/nfq.schema.json
SUFFIXES = .json
.json.c:
	$(AM_V_GEN)$(MKDIR_P) $(@D) && $(SHELL) $(top_srcdir)/scripts/embed.sh $< $@
schemasdir = $(datadir)/coopnet/schemas
dist_schemas_DATA =
MOSTLYCLEANFILES = schemas/*.schema.c tests/unit/data/*.schema.c
EXTRA_DIST += scripts/embed.sh
dist_doc_DATA += docs/config.md
# The cooperative datagram and the Authentication crypto (libsodium; link $(SODIUM_LIBS)).
lib_libcoopnet_a_SOURCES += lib/be.h lib/coop.c lib/coop.h lib/coop_int.h lib/coop_wire.c \
	lib/authcrypto.c lib/authcrypto.h lib/rndpool.c lib/rndpool.h lib/addrtext.c lib/addrtext.h lib/group.c lib/group.h lib/group_sign.c \
	lib/status.c lib/status.h \
	lib/probe.c lib/probe.h
AM_CFLAGS += $(SODIUM_CFLAGS)

# vNICs (macvlan over rtnetlink, libmnl) and their Apache vhosts; users link $(LIBMNL_LIBS)
lib_libcoopnet_a_SOURCES += lib/vnic.c lib/vnic.h lib/vnic_int.h lib/vnic_nl.c lib/nltalk.c lib/nltalk.h lib/vnic_plan.c \
	lib/vhost.c lib/vhost.h lib/vhost_int.h lib/vhost_sync.c
lib_libcoopnet_a_SOURCES += lib/confkey.c lib/confkey.h
# the choice of an SP in a group (docs/groups.md)
lib_libcoopnet_a_SOURCES += lib/balance.c lib/balance.h

# nftables through libnftnl batches (the queue rule, kernel mode, the virtual switch); users
# link $(LIBNFTNL_LIBS) $(LIBMNL_LIBS)
lib_libcoopnet_a_SOURCES += lib/nftbatch.c lib/nftdump.c lib/nftbatch.h lib/nftelems.c
AM_CPPFLAGS += $(LIBMNL_CFLAGS) $(LIBNFTNL_CFLAGS)
# A hash index of positions into a caller's array (the parent's session lists, the switch)
lib_libcoopnet_a_SOURCES += lib/hidx.c lib/hidx.h
# A deadline min-heap over a caller's slots (the status machine's per-session timers)
lib_libcoopnet_a_SOURCES += lib/dheap.c lib/dheap.h
