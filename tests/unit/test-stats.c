// SPDX-License-Identifier: GPL-2.0
/* The wait histogram's quantiles and the JSON writer behind --stats-json. */
#include <stdlib.h>

#include "tap.h"
#include "../../vmm/stats.h"

static int within(uint64_t got, uint64_t want, double rel)
{
	double d = (double)got - (double)want;

	return (d < 0 ? -d : d) <= rel * (double)want + 1;
}

int main(void)
{
	struct dz_hist h, h2;
	struct dz_json j;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	dz_hist__init(&h);
	is_u64(dz_hist__quantile(&h, 0.5), 0, "empty histogram: p50 is 0");
	for (uint64_t v = 1; v <= 1000; v++)
		dz_hist__add(&h, v * 1000);	/* 1 us .. 1 ms */
	is_u64(h.count, 1000, "count");
	is_u64(h.min, 1000, "min exact");
	is_u64(h.max, 1000000, "max exact");
	ok(within(dz_hist__quantile(&h, 0.5), 500000, 0.04), "p50 ~ 500 us (got %llu)",
	   (unsigned long long)dz_hist__quantile(&h, 0.5));
	ok(within(dz_hist__quantile(&h, 0.99), 990000, 0.04), "p99 ~ 990 us (got %llu)",
	   (unsigned long long)dz_hist__quantile(&h, 0.99));
	is_u64(dz_hist__quantile(&h, 1.0), 1000000, "q=1 is max");
	ok(dz_hist__mean(&h) > 500499 && dz_hist__mean(&h) < 500501, "mean exact");

	dz_hist__init(&h2);
	for (int i = 0; i < 63; i++)
		dz_hist__add(&h2, 1ull << i);	/* every magnitude lands in range */
	dz_hist__add(&h2, UINT64_MAX);
	is_u64(h2.max, UINT64_MAX, "huge values are accepted");
	dz_hist__init(&h2);
	for (int i = 0; i < 10; i++)
		dz_hist__add(&h2, 7);
	is_u64(dz_hist__quantile(&h2, 0.99), 7, "small values are exact");
	dz_hist__merge(&h2, &h);
	is_u64(h2.count, 1010, "merge adds counts");
	is_u64(h2.min, 7, "merge keeps min");

	f = open_memstream(&buf, &len);
	dz_json__init(&j, f);
	dz_json__obj_begin(&j, NULL);
	dz_json__str(&j, "name", "a \"q\"\n");
	dz_json__u64(&j, "n", 42);
	dz_json__arr_begin(&j, "list");
	dz_json__i64(&j, NULL, -1);
	dz_json__bool(&j, NULL, true);
	dz_json__arr_end(&j);
	dz_json__obj_begin(&j, "empty");
	dz_json__obj_end(&j);
	dz_json__hist(&j, "wait", &h);
	dz_json__double(&j, "nan", 0.0 / 0.0);
	dz_json__obj_end(&j);
	is_int(dz_json__finish(&j), 0, "json finished");
	fclose(f);
	ok(strstr(buf, "\"name\": \"a \\\"q\\\"\\n\""), "strings are escaped");
	ok(strstr(buf, "\"list\": [\n    -1,\n    true\n  ]"), "arrays hold bare values");
	ok(strstr(buf, "\"empty\": {}"), "empty object");
	ok(strstr(buf, "\"p99\": "), "histogram has p99");
	ok(strstr(buf, "\"nan\": null"), "NaN becomes null");
	/* A well-formed document: python is not needed, count braces. */
	{
		int depth = 0, bad = 0;
		for (char *p = buf; *p; p++) {
			if (*p == '{' || *p == '[')
				depth++;
			if (*p == '}' || *p == ']')
				if (--depth < 0)
					bad = 1;
		}
		ok(!bad && depth == 0, "brackets balance");
	}
	free(buf);
	return done_testing();
}
