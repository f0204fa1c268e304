# ctl/: coopnetctl, one file per command behind the dispatch table in coopnetctl.c.
sbin_PROGRAMS += ctl/coopnetctl
ctl_coopnetctl_SOURCES = \
	ctl/coopnetctl.c ctl/coopnetctl.h ctl/request.c \
	ctl/cmd_help.c \
	ctl/cmd_stats.c ctl/cmd_metrics.c
ctl_coopnetctl_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)
ctl_coopnetctl_LDADD = lib/libcoopnet.a $(JANSSON_LIBS)
ctl_coopnetctl_SOURCES += \
	ctl/cmd_status.c ctl/cmd_sessions.c ctl/cmd_clients.c ctl/cmd_vnics.c \
	ctl/cmd_auth.c ctl/cmd_revoke.c ctl/cmd_reload.c ctl/cmd_probe.c
ctl_coopnetctl_SOURCES += ctl/cmd_dp_sessions.c ctl/cmd_dp.c
# group (and its keygen: Ed25519 keys, libsodium)
ctl_coopnetctl_SOURCES += ctl/cmd_group.c ctl/group_view.c ctl/group_view.h
ctl_coopnetctl_CFLAGS = $(AM_CFLAGS) $(SODIUM_CFLAGS)
ctl_coopnetctl_LDADD += $(SODIUM_LIBS)
