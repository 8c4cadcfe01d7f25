namespace Ovis.Runtime;

/// <summary>
/// Frees the native scalars TorchSharp makes implicitly, between the chunks of a loop that allocates the same large
/// tensors again and again (particle chunks of a training step, of an L_K evaluation). TorchSharp turns every C#
/// number in a tensor expression (<c>z * 2 − 1</c>, and internally the alpha of <c>a + b</c>) into a native Scalar
/// that only the finaliser frees (docs/platform.md §5.5). Left for the next garbage collection, these small blocks sit
/// between one chunk's freed tensors and the next chunk's, so glibc's heap cannot reuse the chunk's memory and grows by
/// about one large tensor per chunk.
/// </summary>
internal static class ImplicitScalars
{
    /// <summary>
    /// Collect generation 0 and run the pending finalisers: the scalars made since the last collection are young, so
    /// this finds them, at a cost well under a millisecond.
    /// </summary>
    public static void Release()
    {
        GC.Collect(0, GCCollectionMode.Forced, blocking: true);
        GC.WaitForPendingFinalizers();
    }
}
