using SkiaSharp;
using static TorchSharp.torch;

namespace Ovis.Reporting;

/// <summary>
/// Saves a batch of grayscale images as one PNG grid (SkiaSharp, the renderer ScottPlot already brings): value 1 is
/// white, 0 black, as MNIST's strokes; each image is enlarged by an integer factor and separated by a gap.
/// </summary>
internal static class ImageGrid
{
    /// <summary>
    /// Write <paramref name="images"/> ([N, H·W] or [N, H, W], values in [0, 1]; clamped) as a grid of
    /// <paramref name="columns"/> images per row to <paramref name="path"/>.
    /// </summary>
    public static void Save(Tensor images, int height, int width, int columns, string path, int scale = 2, int gap = 2)
    {
        if (height < 1 || width < 1 || columns < 1 || scale < 1 || gap < 0)
            throw new ArgumentException("image height, width, columns and scale must be positive and the gap non-negative");
        long count = images.shape[0];
        if (count < 1) throw new ArgumentException("there are no images to save");
        if (images.numel() != count * height * width)
            throw new ArgumentException($"expected {count} images of {height}×{width} pixels, got shape [{string.Join(", ", images.shape)}]");
        float[] pixels;
        using (no_grad())
        using (var flat = images.detach().reshape(count, height * width).to(ScalarType.Float32).clamp(0, 1).cpu())
            pixels = flat.data<float>().ToArray();

        int rows = (int)((count + columns - 1) / columns);
        int cellWidth = width * scale + gap, cellHeight = height * scale + gap;
        using var bitmap = new SKBitmap(columns * cellWidth + gap, rows * cellHeight + gap, SKColorType.Gray8, SKAlphaType.Opaque);
        var buffer = new byte[bitmap.Width * bitmap.Height];
        Array.Fill(buffer, (byte)96);                                                         // mid-grey gaps
        for (int n = 0; n < count; n++)
        {
            int left = gap + (n % columns) * cellWidth, top = gap + (n / columns) * cellHeight;
            for (int y = 0; y < height * scale; y++)
                for (int x = 0; x < width * scale; x++)
                    buffer[(top + y) * bitmap.Width + left + x] = (byte)Math.Round(255 * pixels[n * height * width + (y / scale) * width + x / scale]);
        }
        System.Runtime.InteropServices.Marshal.Copy(buffer, 0, bitmap.GetPixels(), buffer.Length);
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null) Directory.CreateDirectory(directory);
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        using var file = File.Create(path);
        data.SaveTo(file);
    }
}
