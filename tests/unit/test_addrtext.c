/* SPDX-License-Identifier: MIT */
/* lib/addrtext.c and cn_coop_addr_format: the same text as inet_ntop(3) and snprintf, for
 * random and edge addresses, ports and buffer sizes. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "addrtext.h"
#include "coop.h"

static void random_bytes(unsigned *seed, uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)rand_r(seed);
}

static void same_as_inet_ntop(int af, const uint8_t *a, size_t size)
{
	char want[64], got[64];
	const char *w, *g;
	int we, ge;

	memset(want, 'x', sizeof(want));
	memset(got, 'x', sizeof(got));
	errno = 0;
	w = inet_ntop(af, a, want, (socklen_t)size);
	we = errno;
	errno = 0;
	g = cn_ntop(af, a, got, size);
	ge = errno;
	assert_true((w == NULL) == (g == NULL));
	if (w)
		assert_string_equal(got, want);
	else
		assert_int_equal(ge, we);
}

static void test_ntop_ipv4(void **state)
{
	static const uint8_t edge[][4] = { { 0, 0, 0, 0 }, { 255, 255, 255, 255 },
					   { 198, 18, 0, 1 }, { 10, 0, 100, 9 }, { 1, 20, 199, 250 } };
	unsigned seed = 3;
	uint8_t a[4];

	(void)state;
	for (size_t i = 0; i < sizeof(edge) / sizeof(edge[0]); i++)
		for (size_t size = 1; size <= 17; size++)
			same_as_inet_ntop(AF_INET, edge[i], size);
	for (int i = 0; i < 100000; i++) {
		random_bytes(&seed, a, sizeof(a));
		same_as_inet_ntop(AF_INET, a, i % 3 ? INET_ADDRSTRLEN : 1 + (size_t)(i % 17));
	}
}

static void test_ntop_ipv6_and_family(void **state)
{
	unsigned seed = 5;
	uint8_t a[16] = { 0x20, 0x01, 0x0d, 0xb8 };
	char buf[64];

	(void)state;
	same_as_inet_ntop(AF_INET6, a, INET6_ADDRSTRLEN);
	for (int i = 0; i < 2000; i++) {
		random_bytes(&seed, a + 8, 8);
		same_as_inet_ntop(AF_INET6, a, 1 + (size_t)(i % 46));
	}
	errno = 0;
	assert_null(cn_ntop(12345, a, buf, sizeof(buf)));
	assert_int_equal(errno, EAFNOSUPPORT);
}

/* cn_coop_addr_format as it was: inet_ntop and snprintf */
static const char *format_ref(const struct cn_coop_addr *a, char *buf, size_t size)
{
	char host[INET6_ADDRSTRLEN];

	if (size == 0)
		return buf;
	if (a->family == CN_FAM_INET)
		inet_ntop(AF_INET, a->addr, host, sizeof(host));
	else if (a->family == CN_FAM_INET6)
		inet_ntop(AF_INET6, a->addr, host, sizeof(host));
	else
		snprintf(host, sizeof(host), "none");
	if (a->port == 0)
		snprintf(buf, size, "%s", host);
	else if (a->family == CN_FAM_INET6)
		snprintf(buf, size, "[%s]:%u", host, a->port);
	else
		snprintf(buf, size, "%s:%u", host, a->port);
	return buf;
}

static void test_coop_addr_format(void **state)
{
	static const uint16_t ports[] = { 0, 1, 9, 10, 99, 443, 7447, 9999, 10000, 65535 };
	unsigned seed = 9;

	(void)state;
	for (int i = 0; i < 30000; i++) {
		struct cn_coop_addr a;
		char want[80], got[80];
		size_t size = i % 4 ? CN_COOP_ADDRSTRLEN : (size_t)(i % 60);

		memset(&a, 0, sizeof(a));
		a.family = i % 5 == 0 ? CN_FAM_INET6 : i % 17 == 0 ? 0 : CN_FAM_INET;
		random_bytes(&seed, a.addr, sizeof(a.addr));
		if (i % 7 == 0)
			memset(a.addr + 2, 0, 10); /* IPv6 with a run of zeros: "::" */
		a.port = i % 3 ? ports[i % 10] : (uint16_t)rand_r(&seed);
		memset(want, 'x', sizeof(want));
		memset(got, 'x', sizeof(got));
		format_ref(&a, want, size);
		assert_ptr_equal(cn_coop_addr_format(&a, got, size), got);
		assert_memory_equal(got, want, sizeof(got)); /* also nothing written past the end */
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ntop_ipv4),
		cmocka_unit_test(test_ntop_ipv6_and_family),
		cmocka_unit_test(test_coop_addr_format),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
