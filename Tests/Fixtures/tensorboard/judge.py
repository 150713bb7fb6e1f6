"""TensorBoard's own code as the judge of Loupe's event files (Tests/LoupeLabTests/TensorBoardJudgeTests.swift).

    judge.py read RUN_FOLDER         -> JSON: every scalar, histogram and image event_accumulator reads
    judge.py truncations FILE        -> JSON: records read back from FILE cut at every byte of its last record
    judge.py crc HEX...              -> JSON: masked_crc32c of each hex byte string
    judge.py free-port               -> a TCP port free on 127.0.0.1
    judge.py http URL [JSON_BODY]    -> the response body of a GET (or a POST of the JSON body); exit 1 on failure
"""
import json
import os
import socket
import sys
import tempfile

command = sys.argv[1]

if command == "read":
    from tensorboard.backend.event_processing import event_accumulator as ea

    accumulator = ea.EventAccumulator(sys.argv[2], size_guidance={ea.SCALARS: 0, ea.HISTOGRAMS: 0, ea.IMAGES: 0, ea.TENSORS: 0})
    accumulator.Reload()
    tags = accumulator.Tags()
    print(json.dumps({
        "scalars": {t: [[e.step, e.value, e.wall_time] for e in accumulator.Scalars(t)] for t in tags["scalars"]},
        "histograms": {t: [[e.step, e.histogram_value.num, e.histogram_value.min, e.histogram_value.max,
                            sum(e.histogram_value.bucket)] for e in accumulator.Histograms(t)] for t in tags["histograms"]},
        "images": {t: [[e.step, e.width, e.height, len(e.encoded_image_string)] for e in accumulator.Images(t)] for t in tags["images"]},
        "tensors": sorted(tags["tensors"]),
    }))
elif command == "truncations":
    from tensorboard.backend.event_processing import event_file_loader

    def count(path):
        return sum(1 for _ in event_file_loader.RawEventFileLoader(path).Load())

    data = open(sys.argv[2], "rb").read()
    whole = count(sys.argv[2])
    # The last record's start: walk the framing (length u64 LE + 4 + data + 4).
    offset, starts = 0, []
    while offset < len(data):
        starts.append(offset)
        offset += 16 + int.from_bytes(data[offset:offset + 8], "little")
    last = starts[-1]
    counts = {}
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "events.out.tfevents.cut")
        for cut in range(last, len(data)):
            with open(path, "wb") as f:
                f.write(data[:cut])
            counts[cut] = count(path)
    print(json.dumps({"records": whole, "lastStart": last, "size": len(data), "counts": counts}))
elif command == "crc":
    from tensorboard.summary.writer.record_writer import masked_crc32c

    print(json.dumps([masked_crc32c(bytes.fromhex(h)) for h in sys.argv[2:]]))
elif command == "free-port":
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        print(s.getsockname()[1])
elif command == "http":
    import urllib.request

    body = sys.argv[3].encode() if len(sys.argv) > 3 else None
    request = urllib.request.Request(sys.argv[2], data=body, headers={"Content-Type": "application/json"} if body else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            sys.stdout.write(response.read().decode())
    except Exception as error:  # the test retries until its deadline
        sys.stderr.write(f"{error}\n")
        sys.exit(1)
