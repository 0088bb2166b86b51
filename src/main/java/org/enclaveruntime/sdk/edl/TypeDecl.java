package org.enclaveruntime.sdk.edl;

import java.util.List;

/** A type an EDL file defines; the generator writes it into both headers. */
public sealed interface TypeDecl {
    String name();

    SourcePos pos();

    /** `struct` or `union` with plain members (no deep-copy attributes). */
    record Aggregate(String keyword, String name, List<Member> members, SourcePos pos) implements TypeDecl {
        public Aggregate {
            members = List.copyOf(members);
        }
    }

    /** `enum name { A, B = 2 }`; the name is empty for an anonymous enum. Values keep their EDL spelling. */
    record Enumeration(String name, List<Enumerator> values, SourcePos pos) implements TypeDecl {
        public Enumeration {
            values = List.copyOf(values);
        }
    }

    record Member(CType type, String name, List<Long> dims) {
        public Member {
            dims = List.copyOf(dims);
        }
    }

    /** {@code value} is null when the enumerator has none. */
    record Enumerator(String name, String value) {
    }
}
