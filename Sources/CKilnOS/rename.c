// Linux calls that Glibc's Swift module hides behind _GNU_SOURCE.
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include "CKilnOS.h"

int kiln_rename_exchange(const char *from, const char *to) {
    return renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_EXCHANGE);
}

int kiln_rename_noreplace(const char *from, const char *to) {
    return renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE);
}
