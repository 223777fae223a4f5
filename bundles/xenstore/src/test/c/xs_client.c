/*
 * A libxenstore client for the daemon tests: transactions (one committed, one forced into a
 * conflict that must end in EAGAIN) and a directory listing larger than one 4096-byte reply,
 * which libxenstore fetches with DIRECTORY_PART. Prints one line per check; exit 0 when all hold.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xenstore.h>

#define CHILDREN 300

static int fail(const char *what)
{
    fprintf(stderr, "FAIL %s (errno %d: %s)\n", what, errno, strerror(errno));
    return 1;
}

static int transactions(struct xs_handle *h1, struct xs_handle *h2)
{
    xs_transaction_t t;
    unsigned int len;
    char *v;

    /* A transaction that commits. */
    t = xs_transaction_start(h1);
    if (t == XBT_NULL)
        return fail("transaction_start");
    if (!xs_write(h1, t, "/ctest/a", "in-tx", 5))
        return fail("write in transaction");
    v = xs_read(h2, XBT_NULL, "/ctest/a", &len);
    if (v) {
        fprintf(stderr, "FAIL uncommitted write visible outside: %s\n", v);
        return 1;
    }
    if (!xs_transaction_end(h1, t, false))
        return fail("commit");
    v = xs_read(h2, XBT_NULL, "/ctest/a", &len);
    if (!v || strcmp(v, "in-tx"))
        return fail("committed value");
    free(v);
    printf("commit ok\n");

    /* A transaction whose read node changes before commit: EAGAIN. */
    if (!xs_write(h1, XBT_NULL, "/ctest/x", "0", 1))
        return fail("write /ctest/x");
    t = xs_transaction_start(h1);
    if (t == XBT_NULL)
        return fail("transaction_start 2");
    v = xs_read(h1, t, "/ctest/x", &len);
    if (!v)
        return fail("read in transaction");
    free(v);
    if (!xs_write(h2, XBT_NULL, "/ctest/x", "other", 5))
        return fail("conflicting write");
    if (!xs_write(h1, t, "/ctest/y", "1", 1))
        return fail("write /ctest/y in transaction");
    if (xs_transaction_end(h1, t, false)) {
        fprintf(stderr, "FAIL conflicting commit succeeded\n");
        return 1;
    }
    if (errno != EAGAIN)
        return fail("conflicting commit: expected EAGAIN");
    v = xs_read(h2, XBT_NULL, "/ctest/y", &len);
    if (v) {
        fprintf(stderr, "FAIL write of the failed transaction is visible\n");
        return 1;
    }
    printf("conflict EAGAIN\n");
    return 0;
}

static int big_directory(struct xs_handle *h)
{
    char path[128];
    char **names;
    unsigned int num, i;

    for (i = 0; i < CHILDREN; i++) {
        snprintf(path, sizeof(path), "/ctest/big/a-rather-long-child-name-%03u", i);
        if (!xs_write(h, XBT_NULL, path, "", 0))
            return fail("write child");
    }
    names = xs_directory(h, XBT_NULL, "/ctest/big", &num);
    if (!names)
        return fail("directory");
    if (num != CHILDREN) {
        fprintf(stderr, "FAIL directory returned %u names\n", num);
        return 1;
    }
    for (i = 0; i < num; i++) {
        snprintf(path, sizeof(path), "a-rather-long-child-name-%03u", i);
        if (strcmp(names[i], path)) {
            fprintf(stderr, "FAIL name %u is %s\n", i, names[i]);
            return 1;
        }
    }
    free(names);
    printf("directory %u\n", num);
    return 0;
}

int main(void)
{
    struct xs_handle *h1 = xs_open(0), *h2 = xs_open(0);

    if (!h1 || !h2)
        return fail("xs_open");
    if (transactions(h1, h2) || big_directory(h1))
        return 1;
    xs_close(h1);
    xs_close(h2);
    return 0;
}
