#include "services.h"

void services_init(const struct boot_info *boot_info)
{
    (void)boot_info;
}

int services_poll(uint32_t vcpu)
{
    (void)vcpu;
    return 0;
}
