/*
 * fuzz_playbook.c - the playbook parser on arbitrary bytes: never a crash, never a playbook
 * handed out on error, an error always names the input and a line ("fuzz.playbook:LINE: ..."
 * or "fuzz.playbook: ..."), and whatever parses holds what a playbook must hold.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "incident/playbook.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    playbook *sentinel = (playbook *)(uintptr_t)1, *p = sentinel;
    err e = playbook_parse("fuzz.playbook", (const char *)data, size, &p);
    if (e != ERR_OK) {
        if (e != ERR_INPUT || p != sentinel || strncmp(err_message(), "fuzz.playbook:", 14) != 0) {
            abort();
        }
        return 0;
    }
    if (p == sentinel || p == NULL || p->ntasks == 0 || p->ntasks > PLAYBOOK_MAX_TASKS ||
        p->id[0] == 0) {
        abort();
    }
    bool mandatory = false;
    for (size_t i = 0; i < p->ntasks; i++) {
        const pb_task *t = &p->task[i];
        mandatory |= t->mandatory;
        if (t->roles == 0 || t->title[PB_ZH][0] == 0 || t->title[PB_EN][0] == 0 || t->due_s < 0 ||
            t->due_s > PLAYBOOK_MAX_DUE_S || (t->after >> i) != 0 ||
            playbook_task_index(p, t->id) != (int)i) {
            abort(); /* `after` may name earlier tasks only: no cycle can exist */
        }
    }
    if (!mandatory) {
        abort();
    }
    playbook_free(p);
    return 0;
}
