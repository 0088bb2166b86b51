// SampleMath's application: sends points to the enclave, which computes their distance, and prints it.
//
// Written as an SGX SDK application is: sgx_create_enclave on enclave.signed.so, the ECALL wrapper that
// edger8r generated from Enclave.edl, sgx_destroy_enclave. The enclave is the module loaded into the
// running enclave VM (docs/sdk.md, "SampleMath"). Usage: app [ENCLAVE]  (default: enclave.signed.so next to
// the app).
#include <iostream>
#include <string>

#include <unistd.h>

#include "sgx_urts.h"
#include "Enclave_u.h"

namespace {

// The names of the statuses this runtime gives (docs/module-runtime.md section 4), as SGX samples list theirs.
struct StatusName {
    sgx_status_t status;
    const char *name;
    const char *what;
};

const StatusName kStatuses[] = {
    {SGX_ERROR_UNEXPECTED, "SGX_ERROR_UNEXPECTED", "the enclave broke the protocol"},
    {SGX_ERROR_INVALID_PARAMETER, "SGX_ERROR_INVALID_PARAMETER", "an argument is out of range"},
    {SGX_ERROR_OUT_OF_MEMORY, "SGX_ERROR_OUT_OF_MEMORY", "the enclave has no room for the module"},
    {SGX_ERROR_ENCLAVE_LOST, "SGX_ERROR_ENCLAVE_LOST", "the enclave ended; start it and run again"},
    {SGX_ERROR_INVALID_FUNCTION, "SGX_ERROR_INVALID_FUNCTION", "the enclave has no such ECALL"},
    {SGX_ERROR_ENCLAVE_CRASHED, "SGX_ERROR_ENCLAVE_CRASHED", "the enclave ended during the call"},
    {SGX_ERROR_UNDEFINED_SYMBOL, "SGX_ERROR_UNDEFINED_SYMBOL", "the module imports what the enclave lacks"},
    {SGX_ERROR_INVALID_ENCLAVE, "SGX_ERROR_INVALID_ENCLAVE", "the module file is not a valid module"},
    {SGX_ERROR_INVALID_ENCLAVE_ID, "SGX_ERROR_INVALID_ENCLAVE_ID", "the module is not loaded"},
    {SGX_ERROR_INVALID_SIGNATURE, "SGX_ERROR_INVALID_SIGNATURE", "the module's signature does not verify"},
    {SGX_ERROR_NDEBUG_ENCLAVE, "SGX_ERROR_NDEBUG_ENCLAVE", "a debug module cannot load into a production enclave"},
    {SGX_ERROR_OUT_OF_EPC, "SGX_ERROR_OUT_OF_EPC", "the module does not fit the enclave's module memory"},
    {SGX_ERROR_NO_DEVICE, "SGX_ERROR_NO_DEVICE", "no enclave is running (or its socket may not be opened)"},
    {SGX_ERROR_INVALID_METADATA, "SGX_ERROR_INVALID_METADATA", "the module is larger than its signed heap"},
    {SGX_ERROR_ENCLAVE_FILE_ACCESS, "SGX_ERROR_ENCLAVE_FILE_ACCESS", "the module file cannot be read"},
    {SGX_ERROR_SERVICE_UNAVAILABLE, "SGX_ERROR_SERVICE_UNAVAILABLE", "the enclave is not ready"},
    {SGX_ERROR_SERVICE_TIMEOUT, "SGX_ERROR_SERVICE_TIMEOUT", "the enclave did not answer in time"},
};

// Not in SGX's samples: the runtime's reason for the failure (e.g. which check a damaged module failed).
void print_error_message(const char *what, sgx_status_t status)
{
    std::cerr << "Error: " << what << ": ";
    bool known = false;
    for (const StatusName &s : kStatuses) {
        if (s.status == status) {
            std::cerr << s.name << " (0x" << std::hex << unsigned(status) << std::dec << "): " << s.what;
            known = true;
            break;
        }
    }
    if (!known)
        std::cerr << "status 0x" << std::hex << unsigned(status) << std::dec << " (enclavectl explain it)";
    std::cerr << std::endl;
    const char *reason = de_urts_last_error();
    if (reason != nullptr && *reason != '\0')
        std::cerr << "       " << reason << std::endl;
}

// enclave.signed.so in the directory of this program.
std::string enclave_next_to_app()
{
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return "enclave.signed.so";
    std::string path(self, static_cast<size_t>(n));
    return path.substr(0, path.rfind('/') + 1) + "enclave.signed.so";
}

} // namespace

int main(int argc, char *argv[])
{
    std::string enclave_file = argc > 1 ? argv[1] : enclave_next_to_app();

    sgx_enclave_id_t eid = 0;
    sgx_status_t ret = sgx_create_enclave(enclave_file.c_str(), SGX_DEBUG_FLAG, nullptr, nullptr, &eid, nullptr);
    if (ret != SGX_SUCCESS) {
        print_error_message(enclave_file.c_str(), ret);
        return 1;
    }

    const int points[][2][2] = {
        {{3, 4}, {1, 8}},
        {{6, 9}, {6, 2}},
        {{3, 3}, {7, 5}},
    };
    int status = 0;
    for (const auto &p : points) {
        double distance = 0;
        ret = ecall_distance(eid, &distance, p[0], p[1]);
        if (ret != SGX_SUCCESS) {
            print_error_message("ecall_distance", ret);
            status = 1;
            break;
        }
        std::cout << "A(" << p[0][0] << "," << p[0][1] << ") -> B(" << p[1][0] << "," << p[1][1] << ") -> "
                  << distance << std::endl;
    }

    sgx_destroy_enclave(eid);
    return status;
}
