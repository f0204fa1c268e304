# systemd/: the units of both daemons, with this build's paths (docs/deployment.md, "systemd");
# checked by tests/units.test (systemd-analyze verify) and tests/netns/units.test (their
# command lines, run in a network namespace).
systemdunitdir = $(SYSTEMD_UNIT_DIR)
systemdunit_DATA = systemd/coopnet-authd.service systemd/coopnet-nfq.service
EXTRA_DIST += $(systemdunit_DATA:=.in) tests/units.test tests/netns/units.test
CLEANFILES += $(systemdunit_DATA)
TESTS += tests/units.test
# UNIT_SBINDIR=DIR make systemd/X.service: the same unit naming other binaries (the tests)
UNIT_SBINDIR = $(sbindir)
UNIT_SED = $(AM_V_GEN)$(MKDIR_P) $(@D) && sed -e 's|@SBINDIR@|$(UNIT_SBINDIR)|g' \
	-e 's|@SYSCONFDIR@|$(sysconfdir)|g' -e 's|@DATADIR@|$(datadir)|g' -e 's|@NFT_BIN@|$(NFT)|g'
systemd/coopnet-authd.service: $(srcdir)/systemd/coopnet-authd.service.in Makefile
	$(UNIT_SED) $(srcdir)/systemd/coopnet-authd.service.in >$@.tmp && mv $@.tmp $@
systemd/coopnet-nfq.service: $(srcdir)/systemd/coopnet-nfq.service.in Makefile
	$(UNIT_SED) $(srcdir)/systemd/coopnet-nfq.service.in >$@.tmp && mv $@.tmp $@
