using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Ovis.Tests.Data;

/// <summary>How the fixture server answers a path.</summary>
internal enum Delivery
{
    /// <summary>200 with the whole body.</summary>
    Whole,
    /// <summary>200 announcing the whole length, then the connection closes after half the body.</summary>
    CutShort,
    /// <summary>200 headers, then nothing for a long time (until the server is disposed).</summary>
    Stall,
}

/// <summary>
/// A minimal HTTP/1.1 server on 127.0.0.1 and an ephemeral port, started by a test, serving fixture bytes; never
/// touches the network beyond the loopback interface. Unknown paths get 404.
/// </summary>
internal sealed class FixtureHttpServer : IDisposable
{
    private readonly TcpListener listener = new(IPAddress.Loopback, 0);
    private readonly Dictionary<string, (byte[] Body, Delivery Delivery)> routes = new();
    private readonly CancellationTokenSource stop = new();
    private readonly Task acceptLoop;

    public FixtureHttpServer()
    {
        listener.Start();
        Port = ((IPEndPoint)listener.LocalEndpoint).Port;
        acceptLoop = Task.Run(AcceptAsync);
    }

    public int Port { get; }

    public string Url(string path) => $"http://127.0.0.1:{Port}/{path.TrimStart('/')}";

    /// <summary>Paths requested so far.</summary>
    public List<string> Requests { get; } = new();

    public void Serve(string path, byte[] body, Delivery delivery = Delivery.Whole)
    {
        lock (routes) routes["/" + path.TrimStart('/')] = (body, delivery);
    }

    private async Task AcceptAsync()
    {
        while (!stop.IsCancellationRequested)
        {
            TcpClient client;
            try { client = await listener.AcceptTcpClientAsync(stop.Token); }
            catch (Exception) { return; }
            _ = Task.Run(() => HandleAsync(client));
        }
    }

    private async Task HandleAsync(TcpClient client)
    {
        using (client)
        {
            try
            {
                var stream = client.GetStream();
                var request = new StringBuilder();
                var buffer = new byte[4096];
                while (!request.ToString().Contains("\r\n\r\n"))
                {
                    int read = await stream.ReadAsync(buffer, stop.Token);
                    if (read == 0) return;
                    request.Append(Encoding.ASCII.GetString(buffer, 0, read));
                }
                var path = request.ToString().Split(' ')[1];
                lock (Requests) Requests.Add(path);
                (byte[] Body, Delivery Delivery) route;
                bool found;
                lock (routes) found = routes.TryGetValue(path, out route);
                if (!found)
                {
                    await stream.WriteAsync(Encoding.ASCII.GetBytes("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"), stop.Token);
                    return;
                }
                var header = $"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {route.Body.Length}\r\nConnection: close\r\n\r\n";
                await stream.WriteAsync(Encoding.ASCII.GetBytes(header), stop.Token);
                switch (route.Delivery)
                {
                    case Delivery.Whole:
                        await stream.WriteAsync(route.Body, stop.Token);
                        break;
                    case Delivery.CutShort:
                        await stream.WriteAsync(route.Body.AsMemory(0, route.Body.Length / 2), stop.Token);
                        await stream.FlushAsync(stop.Token);
                        break;
                    case Delivery.Stall:
                        await stream.WriteAsync(route.Body.AsMemory(0, Math.Min(10, route.Body.Length)), stop.Token);
                        await stream.FlushAsync(stop.Token);
                        await Task.Delay(TimeSpan.FromMinutes(2), stop.Token);
                        await stream.WriteAsync(route.Body.AsMemory(Math.Min(10, route.Body.Length)), stop.Token);
                        break;
                }
            }
            catch (Exception) { /* the client went away or the server stopped */ }
        }
    }

    public void Dispose()
    {
        stop.Cancel();
        listener.Stop();
        try { acceptLoop.Wait(TimeSpan.FromSeconds(5)); } catch (AggregateException) { }
        stop.Dispose();
    }
}
