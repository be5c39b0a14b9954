import CDNNL
import Glibc

/// Thin ownership over oneDNN's C API: the CPU engine, memory objects and primitives, each freed
/// with its owner. A failing call is a programming error (a shape we built wrong) or a CPU oneDNN
/// cannot serve at all, so it stops with oneDNN's status named.
enum OneDNN {
    /// The one CPU engine of the process (oneDNN engines are thread-safe and meant to be shared).
    nonisolated(unsafe) static let engine: dnnl_engine_t = {
        var e: dnnl_engine_t?
        check(dnnl_engine_create(&e, dnnl_cpu, 0), "create the CPU engine")
        return e!
    }()

    static func check(_ status: dnnl_status_t, _ what: @autoclosure () -> String) {
        guard status != dnnl_success else { return }
        preconditionFailure("oneDNN could not \(what()): status \(status.rawValue) (\(String(cString: dnnl_status2str(status))))")
    }

    /// oneDNN's dimension lists (`const dnnl_dims_t`, read as a pointer to int64).
    static func dims(_ values: [Int]) -> [Int64] { values.map(Int64.init) }

    /// An fp32 memory descriptor of logical dims (NCHW / OIHW order, as oneDNN names axes) in a
    /// physical format: `dnnl_nhwc` for our activations, `dnnl_ohwi` for our weights, or
    /// `dnnl_format_tag_any` to let a primitive choose.
    static func descriptor(_ logical: [Int], _ tag: dnnl_format_tag_t) -> dnnl_memory_desc_t {
        var md = dnnl_memory_desc_t()
        let d = dims(logical)
        check(dnnl_memory_desc_init_by_tag(&md, Int32(logical.count), d, dnnl_f32, tag), "describe \(logical)")
        return md
    }

    static func equal(_ a: dnnl_memory_desc_t, _ b: dnnl_memory_desc_t) -> Bool {
        withUnsafePointer(to: a) { pa in withUnsafePointer(to: b) { pb in dnnl_memory_desc_equal(pa, pb) != 0 } }
    }
}

/// A oneDNN memory object over a buffer of ours, pointed at it (`point(at:)`) before each use.
final class DNNLMemory {
    let memory: dnnl_memory_t
    let descriptor: dnnl_memory_desc_t

    init(_ descriptor: dnnl_memory_desc_t) {
        self.descriptor = descriptor
        var m: dnnl_memory_t?
        withUnsafePointer(to: descriptor) { md in
            OneDNN.check(dnnl_memory_create(&m, md, OneDNN.engine, nil), "create a memory object")
        }
        memory = m!
    }

    deinit { dnnl_memory_destroy(memory) }

    func point(at pointer: UnsafeMutableRawPointer) {
        OneDNN.check(dnnl_memory_set_data_handle(memory, pointer), "set a memory handle")
    }

    /// Floats the described memory spans (a blocked format may pad).
    var floats: Int { (withUnsafePointer(to: descriptor) { dnnl_memory_desc_get_size($0) } + 3) / 4 }
}

/// A created primitive and its descriptor.
///
/// Every primitive takes its scratchpad from the caller (`dnnl_scratchpad_mode_user`), out of the
/// model's TransientBuffers: Debian's oneDNN is built with one library scratchpad shared by all
/// primitives, which allows a primitive to run only on the thread that created it, and our models
/// are made on one thread and run on another (the services, the evaluator, parallel tests).
final class DNNLPrimitive {
    let descriptor: dnnl_primitive_desc_t
    let primitive: dnnl_primitive_t
    private let scratchpad: DNNLMemory?

    /// Takes ownership of a primitive descriptor and creates its primitive.
    private init(_ descriptor: dnnl_primitive_desc_t, _ what: String) {
        self.descriptor = descriptor
        var p: dnnl_primitive_t?
        OneDNN.check(dnnl_primitive_create(&p, descriptor), "create the \(what) primitive")
        primitive = p!
        let scratch = dnnl_primitive_desc_query_md(descriptor, dnnl_query_scratchpad_md, 0).pointee
        scratchpad = withUnsafePointer(to: scratch) { dnnl_memory_desc_get_size($0) } > 0 ? DNNLMemory(scratch) : nil
    }

    /// Creates a primitive from an operation descriptor (`dnnl_convolution_desc_t`, ...).
    convenience init(operation: UnsafeRawPointer, hint: DNNLPrimitive? = nil, _ what: String) {
        let attributes = Self.attributes(accumulate: false)
        defer { dnnl_primitive_attr_destroy(attributes) }
        var pd: dnnl_primitive_desc_t?
        EngineThreads.applyToThisThread()
        OneDNN.check(
            dnnl_primitive_desc_create(&pd, operation, attributes, OneDNN.engine, hint?.descriptor), "describe the \(what) primitive")
        self.init(pd!, what)
    }

    /// A reorder from one layout to another; `accumulate` adds into the destination (sum post-op).
    static func reorder(from source: dnnl_memory_desc_t, to destination: dnnl_memory_desc_t, accumulate: Bool = false) -> DNNLPrimitive {
        let attributes = Self.attributes(accumulate: accumulate)
        defer { dnnl_primitive_attr_destroy(attributes) }
        var pd: dnnl_primitive_desc_t?
        EngineThreads.applyToThisThread()
        withUnsafePointer(to: source) { s in
            withUnsafePointer(to: destination) { d in
                OneDNN.check(dnnl_reorder_primitive_desc_create(&pd, s, OneDNN.engine, d, OneDNN.engine, attributes), "describe a reorder")
            }
        }
        return DNNLPrimitive(pd!, "reorder")
    }

    /// User scratchpad; a sum post-op when the result adds onto the destination.
    private static func attributes(accumulate: Bool) -> dnnl_primitive_attr_t {
        var attributes: dnnl_primitive_attr_t?
        OneDNN.check(dnnl_primitive_attr_create(&attributes), "create attributes")
        OneDNN.check(dnnl_primitive_attr_set_scratchpad_mode(attributes, dnnl_scratchpad_mode_user), "set the scratchpad mode")
        if accumulate {
            var ops: dnnl_post_ops_t?
            OneDNN.check(dnnl_post_ops_create(&ops), "create post-ops")
            defer { dnnl_post_ops_destroy(ops) }
            OneDNN.check(dnnl_post_ops_append_sum(ops, 1), "append a sum post-op")
            OneDNN.check(dnnl_primitive_attr_set_post_ops(attributes, ops), "set post-ops")
        }
        return attributes!
    }

    deinit {
        dnnl_primitive_destroy(primitive)
        dnnl_primitive_desc_destroy(descriptor)
    }

    /// The memory descriptor the primitive chose for one of its arguments (`dnnl_query_weights_md`, ...).
    func chosen(_ what: dnnl_query_t) -> dnnl_memory_desc_t {
        dnnl_primitive_desc_query_md(descriptor, what, 0).pointee
    }

    /// Runs the primitive on a stream of this thread and waits for it, its scratchpad (if it
    /// needs one) taken from `buffers` for the call.
    func execute(_ arguments: [(Int32, DNNLMemory)], buffers: TransientBuffers) {
        var args = arguments.map { dnnl_exec_arg_t(arg: $0.0, memory: $0.1.memory) }
        let scratch = scratchpad.map { pad in
            let storage = buffers.take(pad.floats)
            pad.point(at: storage.pointer)
            args.append(dnnl_exec_arg_t(arg: DNNL_ARG_SCRATCHPAD, memory: pad.memory))
            return storage
        }
        EngineThreads.applyToThisThread()
        let stream = DNNLStream.current
        OneDNN.check(dnnl_primitive_execute(primitive, stream, Int32(args.count), args), "run a primitive")
        OneDNN.check(dnnl_stream_wait(stream), "wait for a primitive")
        withExtendedLifetime(scratch) {}
    }

    /// The primitive's implementation name (`jit:avx512_core`, `ref:any`, ...), for benchmarks.
    var implementation: String {
        var name: UnsafePointer<CChar>?
        withUnsafeMutablePointer(to: &name) { p in
            _ = dnnl_primitive_desc_query(descriptor, dnnl_query_impl_info_str, 0, p)
        }
        return name.map { String(cString: $0) } ?? "?"
    }
}

/// One oneDNN stream per thread: a stream is not safe to share across threads, and a process may
/// run several models at once (the evaluator's worker threads).
enum DNNLStream {
    private final class Holder {
        let stream: dnnl_stream_t
        init() {
            var s: dnnl_stream_t?
            OneDNN.check(dnnl_stream_create(&s, OneDNN.engine, dnnl_stream_default_flags.rawValue), "create a stream")
            stream = s!
        }
        deinit { dnnl_stream_destroy(stream) }
    }
    nonisolated(unsafe) private static var key: pthread_key_t = {
        var k = pthread_key_t()
        pthread_key_create(&k) { if let p = $0 { Unmanaged<AnyObject>.fromOpaque(p).release() } }
        return k
    }()

    static var current: dnnl_stream_t {
        if let p = pthread_getspecific(key) { return Unmanaged<Holder>.fromOpaque(p).takeUnretainedValue().stream }
        let holder = Holder()
        pthread_setspecific(key, Unmanaged.passRetained(holder).toOpaque())
        return holder.stream
    }
}

/// The engine's libraries, for logs and benchmarks.
public enum EngineInfo {
    public static var summary: String {
        let v = dnnl_version()!.pointee
        let runtime = v.cpu_runtime == UInt32(DNNL_RUNTIME_OMP) ? "OpenMP" : "CPU runtime \(v.cpu_runtime)"
        return "oneDNN \(v.major).\(v.minor).\(v.patch) (\(runtime), ISA \(isa)); \(BLASInfo.summary)"
    }

    /// The instruction set oneDNN dispatches to here: its kernels, hence the float rounding of
    /// our convolutions, differ from one to another.
    public static var isa: String {
        let names: [UInt32: String] = [
            0x1: "sse41", 0x3: "avx", 0x7: "avx2", 0x407: "avx2_vnni", 0x27: "avx512_core", 0x67: "avx512_core_vnni",
            0xe7: "avx512_core_bf16", 0x3e7: "avx512_core_amx",
        ]
        let value = dnnl_get_effective_cpu_isa().rawValue
        return names[value] ?? String(format: "0x%x", value)
    }
}
