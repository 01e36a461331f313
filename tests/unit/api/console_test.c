/* The embedded console files and the lookup by name (api/console.h). */
#include <string.h>

#include "api/console.h"
#include "tests/support/tap.h"

TAP_TEST(table)
{
	size_t n = 0;
	for (const rvk_console_asset_t *a = rvk_console_assets; a->name; a++, n++) {
		TAP_CHECK(a->len > 0);
		TAP_CHECK(a->data[a->len] == '\0');
		TAP_CHECK(strchr(a->name, '/') == NULL);
		TAP_CHECK(strlen(a->etag) == 18 && a->etag[0] == '"' && a->etag[17] == '"');
		TAP_CHECK(strncmp(a->content_type, "text/", 5) == 0 ||
		          strcmp(a->content_type, "image/svg+xml") == 0);
		for (const rvk_console_asset_t *b = a + 1; b->name; b++)
			TAP_CHECK(strcmp(a->etag, b->etag) != 0 && strcmp(a->name, b->name) != 0);
	}
	TAP_CHECK_INT(n, 4);
}

TAP_TEST(finds_by_exact_basename)
{
	const rvk_console_asset_t *idx = rvk_console_find("");
	TAP_CHECK(idx && strcmp(idx->name, "index.html") == 0);
	TAP_CHECK(rvk_console_find("index.html") == idx);
	TAP_CHECK_STR(rvk_console_find("console.js")->content_type,
	              "text/javascript; charset=utf-8");
	TAP_CHECK_STR(rvk_console_find("console.css")->content_type, "text/css; charset=utf-8");
	TAP_CHECK_STR(idx->content_type, "text/html; charset=utf-8");
}

TAP_TEST(refuses_everything_else)
{
	static const char *const bad[] = {
		"..", "../index.html", "./index.html", "a/../index.html", "/index.html",
		"index.html/", "console", "Console.js", "console.js ", " index.html",
		"embed.py", "meson.build", "console_assets.c", "%2e%2e", "v1",
		"index.html\\", "..\\index.html",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		TAP_CHECK(rvk_console_find(bad[i]) == NULL);
}

int
main(void)
{
	return tap_main(TAP_LIST(table, finds_by_exact_basename, refuses_everything_else));
}
