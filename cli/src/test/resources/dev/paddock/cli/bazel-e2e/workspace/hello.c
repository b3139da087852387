#include <stdio.h>
int main(void) { printf("hello from cc_binary\n"); return 0; }
