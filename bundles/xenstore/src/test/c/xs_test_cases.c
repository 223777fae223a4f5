/*
 * The cases of Xen's own xenstore test program (tools/tests/xenstore/test-xenstore.c: "read 1",
 * "read 2000", "write 1", "write 2000", "dir", "rm node", "rm dir", "ta empty", "ta empty x",
 * "ta rmw", "ta rmw x", "ta err"), written again against libxenstore so the suite runs them
 * without Xen's source tree. Each case starts from an empty test directory, runs, and checks
 * what the store holds afterwards. Prints "NAME: ok" or "NAME: failed (...)" per case; exit 0
 * when all pass.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xenstore.h>

#define NODES 10
#define NODE_SIZE 4000
#define TA_RETRIES 100

static struct xs_handle *xs;
static char dir[64];
static char node[NODES][80];
static char fill[NODES][NODE_SIZE];

/* Returns 0, or an errno-like code saying why the case failed. */
typedef int (*step)(int par);

static int err(void) { return errno ? errno : EIO; }

static int expect_value(const char *path, const char *want, unsigned int want_len)
{
    unsigned int len;
    char *v = xs_read(xs, XBT_NULL, path, &len);
    int rc;

    if (!v)
        return err();
    rc = (len == want_len && !memcmp(v, want, len)) ? 0 : ENOENT;
    free(v);
    return rc;
}

static int nothing(int par) { (void)par; return 0; }

static int fill_node0(int par) { return xs_write(xs, XBT_NULL, node[0], fill[0], par) ? 0 : err(); }

static int read_node0(int par)
{
    unsigned int len;
    char *v = xs_read(xs, XBT_NULL, node[0], &len);

    (void)par;
    if (!v)
        return err();
    free(v);
    return (int)len == par ? 0 : EIO;
}

static int node0_is_fill(int par) { return expect_value(node[0], fill[0], par); }

static int fill_all(int par)
{
    for (int i = 0; i < par; i++)
        if (!xs_write(xs, XBT_NULL, node[i], fill[i], 1))
            return err();
    return 0;
}

static int list_dir(int par)
{
    unsigned int num;
    char **names = xs_directory(xs, XBT_NULL, dir, &num);

    (void)par;
    if (!names)
        return err();
    free(names);
    return 0;
}

static int dir_has_all(int par)
{
    unsigned int num;
    char **names = xs_directory(xs, XBT_NULL, dir, &num);
    int rc = 0;

    (void)par;
    if (!names)
        return err();
    if (num != NODES)
        rc = ENOENT;
    for (int j = 0; j < NODES && !rc; j++) {
        bool found = false;
        for (unsigned int i = 0; i < num; i++)
            found |= names[i][0] == 'a' + j && names[i][1] == 0;
        if (!found)
            rc = ENOENT;
    }
    free(names);
    return rc;
}

static int rm_dir(int par)
{
    unsigned int len;
    char *v;

    (void)par;
    if (!xs_rm(xs, XBT_NULL, dir))
        return err();
    v = xs_read(xs, XBT_NULL, dir, &len);
    if (v) {
        free(v);
        return EEXIST;
    }
    return errno == ENOENT ? 0 : err();
}

/* "ta empty": an empty transaction ends (committed or aborted per par) without error. */
static int ta_empty(int par)
{
    for (int l = 0; l < TA_RETRIES; l++) {
        xs_transaction_t t = xs_transaction_start(xs);
        if (t == XBT_NULL)
            return err();
        if (xs_transaction_end(xs, t, par))
            return 0;
        if (errno != EAGAIN)
            return err();
    }
    return EAGAIN;
}

/* "ta rmw": read, write, read back the own write, outside still sees the old value. */
static int ta_rmw(int par)
{
    for (int l = 0; l < TA_RETRIES; l++) {
        unsigned int len;
        char *v;
        int rc = 0;
        xs_transaction_t t = xs_transaction_start(xs);

        if (t == XBT_NULL)
            return err();
        if (!(v = xs_read(xs, t, node[0], &len)))
            rc = err();
        free(v);
        if (!rc && !xs_write(xs, t, node[0], "b", 1))
            rc = err();
        if (!rc) {
            v = xs_read(xs, t, node[0], &len);
            rc = !v ? err() : (len == 1 && v[0] == 'b') ? 0 : ENOENT;
            free(v);
        }
        if (!rc) {
            v = xs_read(xs, XBT_NULL, node[0], &len);
            rc = !v ? err() : (len == 1 && v[0] == 'a') ? 0 : ENOENT;
            free(v);
        }
        if (rc) {
            xs_transaction_end(xs, t, true);
            return rc;
        }
        if (xs_transaction_end(xs, t, par))
            return 0;
        if (errno != EAGAIN)
            return err();
    }
    return EAGAIN;
}

static int node0_after_rmw(int par) { return expect_value(node[0], par ? "a" : "b", 1); }

/* "ta err": a value read in a transaction stays as read after an outside write; commit EAGAIN. */
static int ta_err(int par)
{
    unsigned int len;
    char *v;
    int rc = 0;
    xs_transaction_t t = xs_transaction_start(xs);

    (void)par;
    if (t == XBT_NULL)
        return err();
    if (!(v = xs_read(xs, t, node[0], &len)))
        rc = err();
    free(v);
    if (!rc && !xs_write(xs, XBT_NULL, node[0], "b", 1))
        rc = err();
    if (!rc) {
        v = xs_read(xs, t, node[0], &len);
        rc = !v ? err() : (len == 1 && v[0] == 'a') ? 0 : ENOENT;
        if (rc == ENOENT)
            fprintf(stderr, "ta err: the transaction read '%.*s' after an outside write, not 'a'\n", (int)len, v);
        free(v);
    }
    if (!rc && !xs_write(xs, t, node[0], "c", 1))
        rc = err();
    if (!rc) {
        v = xs_read(xs, t, node[0], &len);
        rc = !v ? err() : (len == 1 && v[0] == 'c') ? 0 : ENOENT;
        free(v);
    }
    if (rc) {
        xs_transaction_end(xs, t, true);
        return rc;
    }
    if (xs_transaction_end(xs, t, false) || errno != EAGAIN)
        return ENOENT;
    return 0;
}

static int node0_is_b(int par) { (void)par; return expect_value(node[0], "b", 1); }

struct test_case {
    const char *name;
    step init;
    int init_par; /* bytes or nodes the init writes */
    step run, check;
    int par;      /* what the run and check take: a size, or 1 to abort the transaction */
};

static const struct test_case cases[] = {
    { "read 1", fill_node0, 1, read_node0, nothing, 1 },
    { "read 2000", fill_node0, 2000, read_node0, nothing, 2000 },
    { "write 1", nothing, 0, fill_node0, node0_is_fill, 1 },
    { "write 2000", nothing, 0, fill_node0, node0_is_fill, 2000 },
    { "dir", fill_all, NODES, list_dir, dir_has_all, 0 },
    { "rm node", nothing, 0, rm_dir, nothing, 0 },
    { "rm dir", fill_all, NODES, rm_dir, nothing, 0 },
    { "ta empty", nothing, 0, ta_empty, nothing, 0 },
    { "ta empty x", nothing, 0, ta_empty, nothing, 1 },
    { "ta rmw", fill_node0, 1, ta_rmw, node0_after_rmw, 0 },
    { "ta rmw x", fill_node0, 1, ta_rmw, node0_after_rmw, 1 },
    { "ta err", fill_node0, 1, ta_err, node0_is_b, 0 },
};

int main(void)
{
    int failed = 0;

    snprintf(dir, sizeof(dir), "xenstore-test/%d", (int)getpid());
    for (int i = 0; i < NODES; i++) {
        memset(fill[i], 'a' + i, NODE_SIZE);
        snprintf(node[i], sizeof(node[i]), "%s/%c", dir, 'a' + i);
    }
    xs = xs_open(0);
    if (!xs) {
        fprintf(stderr, "could not connect to xenstore\n");
        return 2;
    }
    for (unsigned int c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        const struct test_case *tc = &cases[c];
        const char *stage = "init";
        int rc;
        xs_rm(xs, XBT_NULL, dir);
        errno = 0;
        rc = xs_write(xs, XBT_NULL, dir, "", 0) ? 0 : err();
        if (!rc)
            rc = tc->init(tc->init_par);
        if (!rc) {
            stage = "run";
            errno = 0;
            rc = tc->run(tc->par);
        }
        if (!rc) {
            stage = "check";
            errno = 0;
            rc = tc->check(tc->par);
        }
        if (rc) {
            printf("%s: failed (%s, stage %s)\n", tc->name, strerror(rc), stage);
            failed++;
        } else {
            printf("%s: ok\n", tc->name);
        }
    }
    xs_rm(xs, XBT_NULL, dir);
    xs_rm(xs, XBT_NULL, "xenstore-test");
    xs_close(xs);
    return failed ? 3 : 0;
}
