"""One training step of two sequence models, nerve vs PyTorch CPU (issue 5).

(a) 2-layer LSTM language model: Embedding(100, 128), LSTM(128, 256, num_layers=2, batch_first=True),
    Linear(256, 100); batch 32 of 64 tokens, next-token cross-entropy.
(b) 4-layer Transformer encoder: Embedding(1000, 256), TransformerEncoder of 4
    TransformerEncoderLayer(d_model=256, nhead=4, dim_feedforward=1024, dropout=0.0, batch_first=True),
    Linear(256, 1000); batch 16 of 128 tokens, per-token cross-entropy.
A step is forward, CrossEntropyLoss, backward, Adam step, zero_grad, written identically against both
libraries, from identical weights on the same batch (parameters checked equal after the first steps).

Target: nerve time / PyTorch time <= 1.0.

Run: python benchmarks/bench_seq_step.py [--rounds N] [--only a|b] [--label TEXT] [--no-write]
"""
from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402
import torch  # noqa: E402

import nerve  # noqa: E402
from benchmarks.common import cli_command, compare, write_section  # noqa: E402


# Each formulation tried, with what was predicted before and measured after ('CPU': single-thread CPU time,
# OPENBLAS_NUM_THREADS=1 and torch.set_num_threads(1), alternating, medians; steadier than wall time on this
# shared machine).
ATTEMPTS = """\
| attempt | prediction | result | kept |
|---|---|---|---|
| (a) one autograd node per LSTM layer and direction: input projection of all steps in one GEMM, the recurrence on raw arrays (one h @ W_hh^T per step into a preallocated buffer, in-place gate math), backward through time as a raw loop with dW_hh as one GEMM; nerve-op backward only under create_graph | per-step work becomes mostly GEMM | CPU 1.95-2.06 | yes |
| (a) Numba kernels for the per-step gate math | 10-20 ms saved per step | forward 48 -> 103 ms: scalar math.tanh loses to NumPy's vectorised tanh | no |
| (a) other GEMM layouts for the recurrence (h @ W.T, h @ WT, W @ hT, g @ W) | - | all within 10% | no |
| (a) the per-step GEMMs on one BLAS thread (threadpoolctl), the big projection / weight-gradient GEMMs on all | less thread wake-up per 0.1 ms GEMM | busy machine, separate runs: 552 -> 226 ms; quiet machine, A/B in one process: 103 ms with 2 threads vs 124 ms with 1 (and 129 vs 142) | no (removed) |
| (b) fused attention node (scores, mask, softmax, dropout, weighted sum) instead of the 6-op composite | fewer intermediates and graph nodes | CPU 0.88 | yes |
| (b) packed self-attention: q, k, v read in place from the q/k/v projection, one gradient for it | ~5%: no zero-filled select gradients, no head-joining copies | 345 -> 328 ms (2 threads, A/B in one process) | yes |
| (b) softmax with a reciprocal multiply and 2-D max | - | 1.75 -> 1.61 ms per call, < 1 ms per step | no |
| (b) attention core split over 2 Python threads | ~1.5x on the attention part | 1.9x slower under load | no |
| (a, b) nerve's own float32 GEMM (nerve/ops/_gemm_numba.py: an LLVM-IR 12x32 register-blocked micro-kernel through a Numba intrinsic, AVX-512 on this host; BLIS-style packing; C's columns or rows split over 2 threads) for linear, matmul, the recurrent steps (recurrent weight packed once per sequence) and attention's batched products; picked over NumPy's BLAS by a one-off measurement | GEMMs ~1.5x faster (micro-kernel alone 220 GFLOP/s per core vs OpenBLAS-Haswell's ~100) | large products 250-350 GFLOP/s vs 190-210; in the step only once OpenBLAS is held to one thread (its idle threads spin and took nerve's cores: Transformer step 460 ms vs 363); (b) 330 -> 287-312 ms, ratio 1.05 -> 0.90-0.92; (a) 103-134 -> 107-114 ms (the per-step 32-row products run at par with BLAS) | yes |
| (a) the per-step 32x256x1024 products on 2 threads | - | 110 us vs 92 us on one: the second thread's wake-up costs more than its half saves; products under 16M multiply-adds stay on one thread | no |
| (a) weight-gradient products (g^T @ x: A a transposed view) packed with a constant 12-float copy per row of A^T | packing A^T was ~2 ns per element (a variable-length inner loop) | 1024x2048x256: 7.6 -> 4.1 ms (2 threads); step (a) 2.21 -> 2.04, (b) 0.87 -> 0.82 | yes |
| (a) the LSTM recurrence as one compiled loop per layer and direction (nerve/ops/_rnn_numba.py): the hidden units split over 2 threads that spin at a barrier once per step (each thread: its gate columns of h @ W^T by the micro-kernel, W packed once per sequence; its gate math; its units of the next h), gate math fused with a vectorising rational tanh | per-step products on 2 cores (~45 us instead of ~100), gate math ~1 ms per layer instead of ~9 | step 91 -> 66 ms; ratio 2.00 -> 1.36-1.69 | yes |
| (a) views made inside the compiled loops, which atomically count references on arrays both threads share | - | gate math of 2 threads no faster than 1; the loops work on reference-free views (numba.carray): kernel 7.0 -> 5.3 ms per layer forward | fixed |
| (a) element-wise loops indexed at a run-time offset (Numba's wrap-around of negative indices) | - | not vectorised: 2.2 ms per layer's gates; loops over views from index 0: 0.8 ms | fixed |
| (a) the products' left operand (h, dz) read in place from its rows instead of packed | no packing per step | same speed as packed in isolation once the trip count is a constant; in the loop 2 threads ran no faster than 1 (not understood); dz's 16 KiB row stride also thrashes L1 sets | no |
| (a, b) row-major A packed 12 floats per k, written in order, instead of row by row with strided writes | packing was 0.7 ns per element, ~36% of a 2048x1024x128 product on one thread | packing 2.4x faster; that product 2.1 -> 1.7 ms | yes |
| (a) Adam's update of large float32 parameters as one compiled pass (the same float32 operations in order: bit-for-bit the NumPy passes) | ~12 passes over 1M parameters, ~2 ms per step | adam 1.8 -> ~0.4 ms per step | yes |
| (a) the LSTM layer with transposed states (batch along rows): per step gates^T = [W_hh \| W_ih \| b] @ [h^T; x_t^T; 1], the weights packed once as the left operand, the states as they lie as the right one; backward [dh^T; dx^T] = [W_hh^T; W_ih^T] @ dz^T the same way | no per-step packing (~0.5 ms per layer forward, ~1 ms backward), no row padding (a batch of 32 filled 36 rows: 11% of the per-step products), no (T, B, 4H) projection written and read back, no separate projection and dx GEMMs | per-step product alone 2.73 -> 2.45 ms per layer; forward layer at ~390 GFLOP/s; step ratio 1.23 -> 1.05-1.10 | yes |
| (a) the weight gradients as one GEMM over all steps whose left operand is packed straight from the per-step gate-gradient blocks (rnn._rk.weight_grad), against [x \| h_prev] written by the forward, instead of copying dz into a (4H, T B) array each step for two GEMMs | the dz copy cost ~0.6 ms per layer (strided rows, read-for-ownership) | ratio 1.07-1.09 -> 1.03-1.06 (alternating processes) | yes |
| (a) tanh(c) not stored: backward computes it from c, which it read the step before | 2 MB less written and read per layer | ratio 1.08-1.09 -> 1.02-1.04 (with the two rows above, alternating processes) | yes |
| (a) the gate-gradient rows of the weight-gradient GEMM padded off a 4 KiB multiple | L1 set conflicts when packing 12 rows 8 KiB apart | 3.17 vs 3.14 ms: noise | no |
| (a) each thread loads one float per line of the other thread's gate gradients before the step's product (to fetch them with all loads in flight) | cross-core lines fetched faster | within noise (kernel 6.5-7.1 vs 7.3-7.5 ms, the GEMM after it moving alike) | no |
| (a) the embedding gradient as one compiled row scatter (np.add.at's sums); cross-entropy backward as p * g then g off at each row's class; linear keeps the flattened copy of a strided (batch_first) input for its weight gradient | - | embedding backward 0.47 -> 0.08 ms, cross-entropy backward 0.53 -> 0.19 ms, one 2 MB copy less | yes |
| (a) the weight-gradient GEMM's left operand (the per-step 12 x B gate-gradient blocks) read in place by a micro-kernel that steps from one step's block to the next (rows Bn apart, a compile-time constant) instead of packed | packing it cost ~15% of that GEMM | with 12 run-time row offsets the accumulators spilled (2.4x slower); with a constant: one thread 11.3 -> 9.8 ms; in the backward (in-process A/B) layer 2 6.5-7.2 -> 6.0-6.7 ms, layer 1 4.9 -> 4.3 ms | yes |
| (a) the weight gradients' right operand packed from the layer's input and output (h_{t-1}, or h0 where a row was not running) instead of an [x \| h_prev] copy written by the forward | 4 MB less written per layer in the forward (~0.3 ms) | forward layer 2 6.9 -> 6.5 ms, layer 1 5.4 -> 5.1 (alternating processes, noisy) | yes |
| (a) software prefetch of the next step's gates and states before each backward product; of the A panels in the per-step micro-kernel; 64-byte aligned scratch | gate math waiting on cold lines | all within noise | no |
| (a) the per-step products' k in blocks of up to 144 KiB of the right operand (one block at batch 32: C's tiles written once per step) instead of L1-sized 256 | fewer C tile reloads | backward layer 2 8.3-8.5 -> 7.8-8.0 ms, forward 1-3% (in-process A/B) | yes |
| (a) the weight-gradient GEMM on the backward loop's threads after a last barrier, instead of a second hand-over to the thread pool | a hand-over costs 30-80 us here (waking a sleeping thread) | ~0.1 ms per step | yes |
| (a) pool workers that spin (nogil) for ~1 ms after a job before sleeping, for a faster hand-over | 9 hand-overs a step at 30-80 us | no faster: the worker still waits for the GIL on a futex while the caller holds it (20-50 us) | no |
| (a, b) deep products (k >= 4 x the longer side: dW of the head, 100 x 256 x 2048) split along k over the threads, each packing half of both operands | each thread packed all of A | 0.62 -> 0.54-0.57 ms for the head's dW | yes |
| (a, b) 'auto' keeps nerve's GEMM unless NumPy's BLAS is 1.5x faster on the 512^3 calibration product (the choice also gates the compiled LSTM layer and the fused convolutions) | on an Ice Lake host where OpenBLAS runs AVX-512 kernels (OPENBLAS_CORETYPE no longer set), BLAS won the product by 10% (1.8 vs 2.0 ms) and the LSTM layer fell back to the NumPy loop | (a) nerve 122 -> 68-73 ms (ratio 1.96 -> 1.05-1.18); (b) 1.37 with BLAS vs 1.45-1.48 with nerve's GEMM on that host; CNN step (bench_cnn_step) 1.28 / 1.11 with BLAS vs 0.79 / 0.71 | yes |
"""

WHY = ("Where the time goes: both steps are GEMM-bound. Host of this run: an Ice Lake Xeon at 2.8 GHz (2 cores) "
       "whose float32 peak is about 95 GFLOP/s per core for every library (2048^3: OpenBLAS with its AVX-512 kernels "
       "94 on one thread, 190 on two; nerve's GEMM 87 and 161), so nerve's GEMM no longer has the 2x lead it had over "
       "OpenBLAS (forced to its Haswell kernels by OPENBLAS_CORETYPE, no longer set here) on the earlier hosts, where "
       "(a) measured 0.95-1.04 and (b) 0.69-0.72. (b) is ~42 GFLOP of GEMMs: ~265 ms of nerve's step at ~160 GFLOP/s, "
       "the rest (layer norm, softmax, element-wise, the autograd walk) ~100-150 ms, where PyTorch (MKL, oneDNN) does "
       "the whole step in 250-350 ms. (a) is ~11 GFLOP, nearly all in the compiled LSTM layers "
       "(nerve/ops/_rnn_numba.py): per layer the forward loop (input projection and recurrence), the backward loop "
       "(dh and dx) and the weight-gradient GEMM; the rest (embedding, head, loss, Adam, the autograd walk) is ~5 ms "
       "on the earlier hosts. Both libraries' times drift by 20-40% between runs on this shared machine.")


def lstm_lm(lib):
    nn = lib.nn

    class LM(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(100, 128)
            self.rnn = nn.LSTM(128, 256, num_layers=2, batch_first=True)
            self.head = nn.Linear(256, 100)

        def forward(self, x):
            out, _ = self.rnn(self.emb(x))
            return self.head(out)

    return LM()


def transformer_encoder(lib):
    nn = lib.nn

    class Enc(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(1000, 256)
            layer = nn.TransformerEncoderLayer(256, 4, dim_feedforward=1024, dropout=0.0, batch_first=True)
            self.enc = nn.TransformerEncoder(layer, num_layers=4, enable_nested_tensor=False)
            self.head = nn.Linear(256, 1000)

        def forward(self, x):
            return self.head(self.enc(self.emb(x)))

    return Enc()


def make_step(lib, model, x, y, vocab):
    loss_fn = lib.nn.CrossEntropyLoss()
    opt = lib.optim.Adam(model.parameters(), lr=1e-3)

    def step():
        loss = loss_fn(model(x).reshape(-1, vocab), y.reshape(-1))
        loss.backward()
        opt.step()
        opt.zero_grad()
        return loss
    return step


NETS = {"a": ("(a) 2-layer LSTM LM, emb 128, hidden 256, seq 64, batch 32, vocab 100", lstm_lm, (32, 64), 100),
        "b": ("(b) 4-layer Transformer encoder, d_model 256, 4 heads, ff 1024, seq 128, batch 16, vocab 1000",
              transformer_encoder, (16, 128), 1000)}


def pair(build, shape, vocab):
    rng = np.random.default_rng(0)
    torch.manual_seed(0)
    tm = build(torch)
    nm = build(nerve)
    nm.load_state_dict({k: v.detach().numpy() for k, v in tm.state_dict().items()})
    x = rng.integers(0, vocab, shape)
    y = rng.integers(0, vocab, shape)
    ts = make_step(torch, tm, torch.from_numpy(x), torch.from_numpy(y), vocab)
    ns = make_step(nerve, nm, nerve.tensor(x), nerve.tensor(y), vocab)
    for _ in range(2):
        lt = ts()
        ln = ns()
        np.testing.assert_allclose(float(ln), float(lt.detach()), rtol=1e-3)
    for (k, a), b in zip(tm.state_dict().items(), nm.state_dict().values()):
        np.testing.assert_allclose(b.numpy(), a.detach().numpy(), rtol=2e-3, atol=2e-4, err_msg=k)
    return ns, ts


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=9)
    ap.add_argument("--only", choices=sorted(NETS))
    ap.add_argument("--label", default="")
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    nerve.backend.retain_freed_memory()
    rows = []
    for key, (name, build, shape, vocab) in NETS.items():
        if args.only and key != args.only:
            continue
        ns, ts = pair(build, shape, vocab)
        mn, mt, r = compare(ns, ts, rounds=args.rounds, inner=2, warmup=1, settle=True)
        rows.append((name, mn, mt, r))
        print(f"{name}: nerve {mn * 1e3:.1f} ms  torch {mt * 1e3:.1f} ms  ratio {r:.2f}", flush=True)
    table = ("| benchmark | nerve (ms) | PyTorch (ms) | nerve / PyTorch | target |\n"
             "|---|---|---|---|---|\n")
    for name, a, b, ratio in rows:
        table += f"| {name} | {a * 1e3:.1f} | {b * 1e3:.1f} | **{ratio:.2f}** | <= 1.0 |\n"
    print(table)
    if not args.no_write and not args.only:
        met = all(r[3] <= 1.0 for r in rows)
        notes = ((f"Formulation measured: {args.label}. " if args.label else "")
                 + f"Load average {os.getloadavg()[0]:.2f} at the end of the run"
                 + ("." if met else "; the time target is not met yet.")
                 + "\n\nEach timing is one untimed step then two timed ones, libraries alternating, medians over rounds."
                 + "\n\n" + WHY + "\n\nAttempts:\n\n" + ATTEMPTS)
        write_section("Sequence model training step (issue 5)", cli_command(), table, notes)


if __name__ == "__main__":
    main()
