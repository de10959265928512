/* Names of enum values: parsing what users type, printing the canonical spelling. */
#include <ctype.h>
#include <stdio.h>

#include "core/core.h"

/* Matches ignoring case and treating '-' and '_' alike, so "He_Normal" finds "he-normal". */
static bool same_name(const char *a, const char *b) {
    for (; *a && *b; a++, b++) {
        char x = (char)tolower((unsigned char)*a), y = (char)tolower((unsigned char)*b);
        if (x == '_') x = '-';
        if (y == '_') y = '-';
        if (x != y) return false;
    }
    return *a == *b;
}

oclinit_status oi_parse_name(const name_entry *table, size_t count, const char *what, const char *name, int *value) {
    char known[512] = "";
    size_t used = 0;
    for (size_t i = 0; name && i < count; i++) {
        if (same_name(table[i].name, name)) {
            *value = table[i].value;
            return OCLINIT_SUCCESS;
        }
    }
    for (size_t i = 0; i < count && used < sizeof known; i++)
        if (i == 0 || table[i - 1].value != table[i].value)
            used += (size_t)snprintf(known + used, sizeof known - used, "%s%s", used ? ", " : "", table[i].name);
    return oi_fail(OCLINIT_ERROR_INVALID_ARGUMENT, "unknown %s \"%s\"; known: %s", what, name ? name : "(null)", known);
}

const char *oi_name_of(const name_entry *table, size_t count, int value) {
    for (size_t i = 0; i < count; i++)
        if (table[i].value == value) return table[i].name;
    return "unknown";
}
