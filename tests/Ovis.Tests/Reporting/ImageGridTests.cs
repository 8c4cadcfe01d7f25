using Ovis.Reporting;
using SkiaSharp;
using TorchSharp;
using static TorchSharp.torch;

namespace Ovis.Tests.Reporting;

[Collection("Torch")]
public sealed class ImageGridTests : IDisposable
{
    private readonly TempDirectory temporary = new();

    public void Dispose() => temporary.Dispose();

    [Fact]
    public void PixelsLandWhereTheyBelongEnlargedAndClamped()
    {
        // three 2×3 images, two per row: image 1 is all 1 (white), image 2 has one black pixel at (row 1, col 2).
        var images = zeros(3, 6);
        images[1] = ones(6);
        images[2] = full(6, 2.0f);          // clamped to 1
        images[2, 5] = tensor(-1.0f);       // clamped to 0
        var path = Path.Combine(temporary.Path, "grid.png");
        ImageGrid.Save(images, 2, 3, 2, path, scale: 2, gap: 1);
        using var bitmap = SKBitmap.Decode(path);
        Assert.Equal((1 + 2 * (3 * 2 + 1), 1 + 2 * (2 * 2 + 1)), (bitmap.Width, bitmap.Height));
        byte Gray(int x, int y) => bitmap.GetPixel(x, y).Red;
        Assert.Equal(96, Gray(0, 0));                 // gap
        Assert.Equal(0, Gray(1, 1));                  // image 0, black
        Assert.Equal(255, Gray(1 + 7, 1));            // image 1, white
        Assert.Equal(255, Gray(1, 1 + 5));            // image 2 (second row), top-left white
        Assert.Equal(0, Gray(1 + 2 * 2, 1 + 5 + 2));  // image 2, pixel (1, 2) enlarged: black
        Assert.Equal(0, Gray(1 + 2 * 2 + 1, 1 + 5 + 3));
        Assert.Throws<ArgumentException>(() => ImageGrid.Save(images, 3, 3, 2, path));
    }
}
