/* Included instead of cmocka's flags when ./configure did not find cmocka. */
#error "make check needs cmocka: apt-get install libcmocka-dev (or run scripts/setup.sh as root), then ./configure again"
