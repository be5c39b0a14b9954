/// Owned, 64-byte-aligned fp32 storage that layers reuse from step to step: a layer keeps its
/// buffers and only reallocates when a batch needs more room, so a steady training loop allocates
/// nothing after its first step.
public final class FloatBuffer: @unchecked Sendable {
    public private(set) var pointer: UnsafeMutablePointer<Float>
    public private(set) var capacity: Int

    public init(count: Int = 0) {
        capacity = max(count, 1)
        pointer = FloatBuffer.allocate(capacity)
    }

    deinit { pointer.deallocate() }

    private static func allocate(_ count: Int) -> UnsafeMutablePointer<Float> {
        // 64 bytes: one cache line, and the AVX-512 vector width.
        let raw = UnsafeMutableRawPointer.allocate(byteCount: count * MemoryLayout<Float>.stride, alignment: 64)
        return raw.bindMemory(to: Float.self, capacity: count)
    }

    /// Makes room for `count` floats; old contents are not kept when it grows.
    @discardableResult
    public func reserve(_ count: Int) -> UnsafeMutablePointer<Float> {
        if count > capacity {
            pointer.deallocate()
            capacity = count
            pointer = FloatBuffer.allocate(count)
        }
        return pointer
    }

    public func zero(_ count: Int) {
        reserve(count).update(repeating: 0, count: count)
    }
}
