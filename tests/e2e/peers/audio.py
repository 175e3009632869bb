"""WAV helpers in pure Python: make a tone, find its frequency, measure its level.

Only mono or stereo 16-bit PCM is read (what baresip's sndfile module writes);
stereo is reduced to its first channel.
"""
import math
import struct
import wave


def make_tone_wav(path, freq, seconds, rate=8000, amplitude=0.5):
    """Write a mono S16LE sine of `freq` Hz. baresip 1.0 hangs up when an aufile
    source reaches its end, so make it longer than the call."""
    n = int(seconds * rate)
    peak = int(32767 * amplitude)
    step = 2 * math.pi * freq / rate
    frames = struct.pack(f"<{n}h", *(int(peak * math.sin(step * i)) for i in range(n)))
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(frames)
    return str(path)


def make_silence_wav(path, seconds, rate=8000):
    n = int(seconds * rate)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"\0\0" * n)
    return str(path)


def read_wav(path):
    """(samples as ints, sample rate) of a 16-bit PCM WAV, first channel only."""
    with wave.open(str(path), "rb") as w:
        if w.getsampwidth() != 2:
            raise ValueError(f"{path}: only 16-bit PCM is supported")
        ch = w.getnchannels()
        rate = w.getframerate()
        raw = w.readframes(w.getnframes())
    n = len(raw) // 2
    samples = struct.unpack(f"<{n}h", raw[:n * 2])
    if ch > 1:
        samples = samples[::ch]
    return list(samples), rate


def _rms(block):
    if not block:
        return 0.0
    return math.sqrt(sum(s * s for s in block) / len(block))


def level_dbfs(path):
    """RMS level of the whole file relative to full scale (-inf for silence or empty)."""
    samples, _ = read_wav(path)
    r = _rms(samples)
    return 20 * math.log10(r / 32768.0) if r > 0 else float("-inf")


def goertzel_power(samples, rate, freq):
    """Power of `freq` in `samples` (Goertzel), normalised by the block length."""
    k = 2 * math.cos(2 * math.pi * freq / rate)
    s1 = s2 = 0.0
    for x in samples:
        s0 = x + k * s1 - s2
        s2 = s1
        s1 = s0
    return (s1 * s1 + s2 * s2 - k * s1 * s2) / (len(samples) or 1) ** 2


SILENCE_RMS = 33  # about -60 dBFS: G.711 idle noise is below it


def _active_block(samples, rate, size):
    """`size` samples from the middle of the part that is not silent (level above
    1% of the loudest 20 ms block): recordings start and end with silence.
    Empty if the loudest block is below -60 dBFS."""
    frame = max(1, rate // 50)
    blocks = [samples[i:i + frame] for i in range(0, len(samples) - frame + 1, frame)]
    if not blocks:
        return samples
    levels = [_rms(b) for b in blocks]
    top = max(levels)
    if top < SILENCE_RMS:
        return []
    active = [i for i, v in enumerate(levels) if v >= top * 0.01]
    first, last = active[0] * frame, (active[-1] + 1) * frame
    mid = (first + last) // 2
    lo = max(first, mid - size // 2)
    return samples[lo:min(last, lo + size)]


def dominant_frequency(path, fmin=100, fmax=3800, step=5, size=4000):
    """The strongest frequency (Hz, to 1 Hz) in the non-silent middle of a WAV, or
    None if the file is silent (below -60 dBFS). A coarse Goertzel scan every `step`
    Hz, then a 1 Hz refinement around the best."""
    samples, rate = read_wav(path)
    block = _active_block(samples, rate, size)
    if len(block) < rate // 50:
        return None
    mean = sum(block) / len(block)
    block = [s - mean for s in block]
    fmax = min(fmax, rate / 2 - step)
    best = max(range(int(fmin), int(fmax) + 1, step),
               key=lambda f: goertzel_power(block, rate, f))
    fine = max(range(max(int(fmin), best - step), best + step + 1),
               key=lambda f: goertzel_power(block, rate, f))
    return fine


def tone_ratio_db(path, freq, other):
    """How many dB `freq` stands above `other` in the non-silent middle of a WAV."""
    samples, rate = read_wav(path)
    block = _active_block(samples, rate, 4000)
    if not block:
        return float("-inf")
    a = goertzel_power(block, rate, freq)
    b = goertzel_power(block, rate, other)
    if a <= 0:
        return float("-inf")
    return 10 * math.log10(a / b) if b > 0 else float("inf")
