/*
 * store_training.c - the backend-neutral helpers of store_training.h.
 */
#include <string.h>

#include "store/store_training.h"

void training_attempt_init(training_attempt *a)
{
    memset(a, 0, sizeof *a);
    buf_init(&a->paper, (size_t)1 << 20);
}

void training_attempt_free(training_attempt *a)
{
    buf_free(&a->paper);
}
