# man/: mdoc pages.
dist_man_MANS += \
	man/s4lab.1 \
	$(NULL)
