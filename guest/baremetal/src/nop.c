/* nop: powers off at once (used to measure VM start-up time in the benchmark). */
#include "rt.h"
const char *test_name = "nop";
int test_main(void) { return 0; }
