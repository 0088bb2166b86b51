package org.enclaveruntime.cli;

import org.enclaveruntime.config.ConfigErrors;
import org.enclaveruntime.errors.ErrorCode;
import org.enclaveruntime.errors.GeneralErrors;
import org.enclaveruntime.state.StateErrors;
import org.enclaveruntime.platform.PlatformErrors;
import org.enclaveruntime.kvm.KvmErrors;
import org.enclaveruntime.memory.MemoryErrors;
import org.enclaveruntime.service.LifecycleErrors;
import org.enclaveruntime.vmm.VmmErrors;
import org.enclaveruntime.image.ImageErrors;
import org.enclaveruntime.vsock.VsockErrors;
import org.enclaveruntime.module.ModuleErrors;
import org.enclaveruntime.sdk.SdkErrors;
import org.enclaveruntime.sdk.edl.EdlErrors;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Every error code enclavectl can print. A concept that adds a holder class of codes lists its
 * ALL here; a test checks that ids are unique and that no constant is missing from its ALL.
 */
public final class ErrorCatalog {
    private ErrorCatalog() {
    }

    public static List<ErrorCode> all() {
        List<ErrorCode> codes = new ArrayList<>();
        codes.addAll(GeneralErrors.ALL);
        codes.addAll(StateErrors.ALL);
        codes.addAll(ConfigErrors.ALL);
        codes.addAll(PlatformErrors.ALL);
        codes.addAll(KvmErrors.ALL);
        codes.addAll(MemoryErrors.ALL);
        codes.addAll(VmmErrors.ALL);
        codes.addAll(LifecycleErrors.ALL);
        codes.addAll(ImageErrors.ALL);
        codes.addAll(VsockErrors.ALL);
        codes.addAll(ModuleErrors.ALL);
        codes.addAll(SdkErrors.ALL);
        codes.addAll(EdlErrors.ALL);
        codes.sort(Comparator.comparing(ErrorCode::id));
        return codes;
    }

    public static Optional<ErrorCode> find(String id) {
        String wanted = id.trim().toUpperCase(Locale.ROOT);
        return all().stream().filter(c -> c.id().equals(wanted)).findFirst();
    }
}
