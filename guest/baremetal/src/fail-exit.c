/* fail-exit: deliberately exits through the finisher with fail code 3 (exit status 3). */
#include "rt.h"
const char *test_name = "fail-exit";
int test_main(void) {
  println("fail-exit: exiting with finisher code 3");
  finish_fail(3);
}
