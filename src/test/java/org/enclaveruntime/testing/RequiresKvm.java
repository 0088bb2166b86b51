package org.enclaveruntime.testing;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.ExtendWith;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * A test (or every test of a class) that needs a working KVM device. Tagged {@code kvm}, so
 * {@code -Dgroups=kvm} runs just these. Where the device is missing each such test is skipped with the
 * reason, and counted as skipped; with {@code -Denclave.requireKvm=true} it fails instead, so a host that has
 * KVM can never skip them silently. {@code -Denclave.kvm.device=PATH} points the check elsewhere (a missing
 * path exercises the skips on a host that has KVM).
 */
@Target({ElementType.TYPE, ElementType.METHOD})
@Retention(RetentionPolicy.RUNTIME)
@Tag("kvm")
@ExtendWith(KvmCondition.class)
public @interface RequiresKvm {
}
