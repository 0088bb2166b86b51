/*
 * uint32_t modcall_switch(uint64_t stack_top, uint32_t (*run)(void *arg), void *arg)
 * Runs run(arg) on another stack (a module's, docs/module-runtime.md section 2). The caller's stack pointer
 * is kept in a callee-saved register, so nothing of it is written on the module's stack. stack_top is
 * 16-byte aligned, so the call below leaves the SysV alignment run expects.
 */
    .text
    .globl modcall_switch
    .type modcall_switch, @function
modcall_switch:
    push %rbp
    mov %rsp, %rbp
    push %rbx
    push %rbx                /* keeps this frame 16-byte aligned */
    mov %rsp, %rbx
    mov %rdi, %rsp
    mov %rdx, %rdi
    call *%rsi
    mov %rbx, %rsp
    pop %rbx
    pop %rbx
    pop %rbp
    ret
    .size modcall_switch, . - modcall_switch
    .section .note.GNU-stack, "", @progbits
