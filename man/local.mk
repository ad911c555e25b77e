# man/: mdoc pages.
dist_man_MANS += \
	man/s4lab.1 \
	man/s4lab.5 \
	$(NULL)
