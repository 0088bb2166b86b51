/* Test guest: comes online but never reports READY, and idles honouring shutdown (a boot that hangs). */
#include "../runtime.h"

void enclave_main(uint32_t vcpu, const struct boot_info *boot_info)
{
    runtime_start(vcpu, boot_info);
    runtime_serve(vcpu);
}
