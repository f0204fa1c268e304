# man/: the manual pages, written in scdoc (man/NAME.SECTION.scd) and turned into roff by
# scripts/scdoc-man.sh with this build's paths; installed by make install, checked by
# tests/man.test (mandoc -Tlint).
MAN_PAGES = man/coopnet-authd.8 man/coopnet-nfq.8 man/coopnetctl.8 man/coopnet-relay.8 \
	man/coopnet-authd.conf.5 man/coopnet-nfq.conf.5 man/coopnet-policy.5
EXTRA_DIST += $(MAN_PAGES:=.scd) scripts/scdoc-man.sh tests/man.test
TESTS += tests/man.test
if HAVE_SCDOC
man_MANS = $(MAN_PAGES)
endif
CLEANFILES += $(MAN_PAGES)
SCDOC_MAN = $(AM_V_GEN)$(MKDIR_P) $(@D) && SCDOC='$(SCDOC)' $(SHELL) \
	$(srcdir)/scripts/scdoc-man.sh $(srcdir)/$@.scd $@ '$(sysconfdir)' '$(localstatedir)' \
	'$(datadir)' '$(docdir)'
man/coopnet-authd.8: $(srcdir)/man/coopnet-authd.8.scd $(srcdir)/scripts/scdoc-man.sh Makefile
	$(SCDOC_MAN)
man/coopnet-nfq.8: $(srcdir)/man/coopnet-nfq.8.scd $(srcdir)/scripts/scdoc-man.sh Makefile
	$(SCDOC_MAN)
man/coopnetctl.8: $(srcdir)/man/coopnetctl.8.scd $(srcdir)/scripts/scdoc-man.sh Makefile
	$(SCDOC_MAN)
man/coopnet-relay.8: $(srcdir)/man/coopnet-relay.8.scd $(srcdir)/scripts/scdoc-man.sh Makefile
	$(SCDOC_MAN)
man/coopnet-authd.conf.5: $(srcdir)/man/coopnet-authd.conf.5.scd $(srcdir)/scripts/scdoc-man.sh Makefile
	$(SCDOC_MAN)
man/coopnet-nfq.conf.5: $(srcdir)/man/coopnet-nfq.conf.5.scd $(srcdir)/scripts/scdoc-man.sh Makefile
	$(SCDOC_MAN)
man/coopnet-policy.5: $(srcdir)/man/coopnet-policy.5.scd $(srcdir)/scripts/scdoc-man.sh Makefile
	$(SCDOC_MAN)
