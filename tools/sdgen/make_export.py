#!/usr/bin/env python3
"""Build a Stable Diffusion test export in the diffusers ONNX layout: the real architectures
(built from the authors' code, see sdarch/) with seeded random weights.

    python3 make_export.py --kind KIND --size real|small --out DIR [--reuse DIR ...]

KIND      networks                                              scheduler/scheduler_config.json
sd15      SD 1.5: CLIP ViT-L/14 text encoder, UNet, KL VAE      PNDMScheduler (as SD 1.5)
sd21      SD 2.1 base: OpenCLIP ViT-H/14 text (23 layers),      PNDMScheduler, epsilon
          UNet with 64-wide heads, linear proj_in/out, 1024 ctx
sdturbo   the sd21 networks                                     EulerDiscreteScheduler, trailing
sd21v     the sd21 networks (SD 2.1 768)                        DDIMScheduler, v_prediction
lcm       SD 1.5 networks, UNet with time_cond_proj_dim 256     LCMScheduler
          (input timestep_cond [batch, 256])
taesd     TAESD: vae_decoder_tiny/, vae_encoder_tiny/           -

writes, under --out, the components of the kind (tokenizer/, text_encoder/model.onnx,
unet/model.onnx, vae_decoder/model.onnx, vae_encoder/model.onnx or the two TAESD folders),
scheduler/scheduler_config.json, model_index.json, and make_export.json (what was built: each
component's parameters, inputs, outputs, files, seconds, and the signature that says which
network and weights it holds).

--size real has the real sizes (the UNet's weights in unet/weights.pb, as diffusers' script
writes them past 2 GB). --size small keeps every architectural choice but the widths (UNet
model_channels 4 with 2 GroupNorm groups, text transformer width 8 with 2 layers, VAE ch 8),
and the external contract: the text encoder still outputs [batch, 77, 768] (SD 1.x) or
[batch, 77, 1024] (SD 2.x) through a width_proj Linear, the UNet takes those, 4 latent
channels, timestep_cond [batch, 256]; every file is single (weights inside), under 3 MB.
TAESD is 1.2M parameters per half: --size small is the real architecture.

Seeded: each network is built after torch.manual_seed(seed) with PyTorch's default init, so
the same seed gives the same weights in every kind (sd15 and lcm share text encoder and VAE;
the lcm UNet is the sd15 UNet plus cond_proj; sd21, sdturbo and sd21v are the same
networks). The last conv of each UNet and VAE half is rescaled so that a forward pass gives
outputs of a natural size (noise prediction std 1, image std 0.5, latent std 1).

--reuse DIR (repeatable) hard-links, instead of building, each component whose signature in
DIR/make_export.json is the one this run would build (same network, size, seed, opset,
timestep type); from a taesd export it also brings vae_decoder_tiny/ and vae_encoder_tiny/.
Components already present with the right signature are kept (--force rebuilds).

Run with the system interpreter that has torch 1.13 and onnx (Debian python3-torch,
python3-onnx). Real sizes need about 10-13 GB of RAM for a UNet.
"""
import argparse
import gc
import gzip
import json
import os
import shutil
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from sdarch import clip_text  # noqa: E402
from sdarch.taesd import Decoder as TAESDDecoder, Encoder as TAESDEncoder, TinyDecoder, TinyEncoder  # noqa: E402
from sdarch.unet import UNetModel, guidance_scale_embedding  # noqa: E402
from sdarch.vae import AutoencoderKL, VAEDecoder, VAEEncoderSample  # noqa: E402

DEFAULT_BPE = "/work/shared/tokenizer/bpe_simple_vocab_16e6.txt.gz"

# ---- what each kind is -------------------------------------------------------------------

SD_COMPONENTS = ["tokenizer", "text_encoder", "vae_decoder", "vae_encoder", "unet"]
TINY_COMPONENTS = ["vae_decoder_tiny", "vae_encoder_tiny"]

KINDS = {
    # family: text encoder / tokenizer flavour; unet: the UNet's network name
    "sd15": {"family": "sd1", "unet": "sd1", "components": SD_COMPONENTS},
    "sd21": {"family": "sd2", "unet": "sd2", "components": SD_COMPONENTS},
    "sdturbo": {"family": "sd2", "unet": "sd2", "components": SD_COMPONENTS},
    "sd21v": {"family": "sd2", "unet": "sd2", "components": SD_COMPONENTS},
    "lcm": {"family": "sd1", "unet": "lcm", "components": SD_COMPONENTS},
    "taesd": {"family": None, "unet": None, "components": TINY_COMPONENTS},
}

_BASE_SCHED = {"beta_end": 0.012, "beta_schedule": "scaled_linear", "beta_start": 0.00085,
               "num_train_timesteps": 1000}
SCHEDULERS = {
    # runwayml/stable-diffusion-v1-5 (as sd15-realsize writes it)
    "sd15": {"_class_name": "PNDMScheduler", **_BASE_SCHED, "clip_sample": False, "set_alpha_to_one": False,
             "skip_prk_steps": True, "steps_offset": 1, "trained_betas": None},
    # stabilityai/stable-diffusion-2-1-base
    "sd21": {"_class_name": "PNDMScheduler", **_BASE_SCHED, "clip_sample": False, "prediction_type": "epsilon",
             "set_alpha_to_one": False, "skip_prk_steps": True, "steps_offset": 1,
             "timestep_spacing": "leading", "trained_betas": None},
    # stabilityai/sd-turbo
    "sdturbo": {"_class_name": "EulerDiscreteScheduler", **_BASE_SCHED, "clip_sample": False,
                "interpolation_type": "linear", "prediction_type": "epsilon", "sample_max_value": 1.0,
                "set_alpha_to_one": False, "sigma_max": None, "sigma_min": None, "skip_prk_steps": True,
                "steps_offset": 1, "timestep_spacing": "trailing", "timestep_type": "discrete",
                "trained_betas": None, "use_karras_sigmas": False},
    # stabilityai/stable-diffusion-2-1 (768, v-prediction)
    "sd21v": {"_class_name": "DDIMScheduler", **_BASE_SCHED, "clip_sample": False, "prediction_type": "v_prediction",
              "set_alpha_to_one": False, "skip_prk_steps": True, "steps_offset": 1,
              "timestep_spacing": "leading", "trained_betas": None},
    # SimianLuo/LCM_Dreamshaper_v7, as diffusers >= 0.24 saves it
    "lcm": {"_class_name": "LCMScheduler", **_BASE_SCHED, "clip_sample": False, "clip_sample_range": 1.0,
            "dynamic_thresholding_ratio": 0.995, "original_inference_steps": 50, "prediction_type": "epsilon",
            "rescale_betas_zero_snr": False, "sample_max_value": 1.0, "set_alpha_to_one": True,
            "skip_prk_steps": True, "steps_offset": 1, "thresholding": False, "timestep_scaling": 10.0,
            "timestep_spacing": "leading", "trained_betas": None},
}

PIPELINES = {"sd15": "OnnxStableDiffusionPipeline", "sd21": "OnnxStableDiffusionPipeline",
             "sdturbo": "OnnxStableDiffusionPipeline", "sd21v": "OnnxStableDiffusionPipeline",
             "lcm": "ORTLatentConsistencyModelPipeline"}

# Parameter counts of the real networks (checked at --size real).
EXPECTED_PARAMS = {
    "text_encoder/sd1": 123_060_480,  # openai/clip-vit-large-patch14 text model
    "text_encoder/sd2": 340_387_840,  # OpenCLIP ViT-H/14 text tower, 23 layers
    "unet/sd1": 859_520_964,
    "unet/sd2": 865_910_724,
    "unet/lcm": 859_520_964 + 256 * 320,
    "vae_decoder": 49_490_199,
    "vae_encoder": 34_163_664,
    "vae_decoder_tiny": 1_222_531,
    "vae_encoder_tiny": 1_222_532,
}


def unet_config(net, size):
    if size == "real":
        common = dict(model_channels=320, norm_groups=32)
        heads = dict(num_heads=8) if net in ("sd1", "lcm") else dict(num_head_channels=64)
    else:
        # heads per level: sd1/lcm 2 heads of 2/4/8 channels (SD 1.x: 8 heads of 40/80/160);
        # sd2 heads of 2 channels, 2/4/8 of them (SD 2.x: heads of 64, 5/10/20)
        common = dict(model_channels=4, norm_groups=2)
        heads = dict(num_heads=2) if net in ("sd1", "lcm") else dict(num_head_channels=2)
    cfg = dict(common, **heads, channel_mult=(1, 2, 4, 4), attention_resolutions=(4, 2, 1), num_res_blocks=2)
    if net == "sd2":
        cfg.update(context_dim=1024, use_linear_in_transformer=True)
    else:
        cfg.update(context_dim=768)
    if net == "lcm":
        cfg.update(time_cond_proj_dim=256)
    return cfg


def text_config(family, size):
    base = clip_text.Config if family == "sd1" else clip_text.ConfigSD2
    if size == "real":
        return base
    return type("SmallConfig", (base,), dict(hidden_size=8, intermediate_size=32, num_hidden_layers=2,
                                              num_attention_heads=2, out_dim=base.hidden_size))


def vae_config(size):
    return dict(ch=128, norm_groups=32) if size == "real" else dict(ch=8, norm_groups=2)


# ---- small helpers -------------------------------------------------------------------------

def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def count(module):
    return sum(p.numel() for p in module.parameters())


def rss_gb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 2**20
    return 0.0


def bytes_to_unicode():
    """openai/CLIP clip/simple_tokenizer.py (GPT-2's byte mapping)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(2 ** 8):
        if b not in bs:
            bs.append(b)
            cs.append(2 ** 8 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


def _added(content):
    return {"content": content, "lstrip": False, "normalized": True, "rstrip": False, "single_word": False}


def write_tokenizer(bpe_path, out_dir, family, pad_in_config):
    """vocab.json and merges.txt as HF CLIPTokenizer.save_vocabulary() writes them, with the
    vocabulary of openai/CLIP's SimpleTokenizer (the same as dream's clip.WriteDir): 256 byte
    symbols, the same with </w>, one token per merge for the first 48,894 merges,
    <|startoftext|>, <|endoftext|>. special_tokens_map.json and tokenizer_config.json are
    those of runwayml/stable-diffusion-v1-5 (sd1) or stabilityai/stable-diffusion-2-1(-base)
    (sd2). SD 2.x pads with "!" (id 0): its special_tokens_map.json says so, and transformers
    lets that file override tokenizer_config.json, which still says "<|endoftext|>" as
    shipped (pad_in_config writes "!" there too)."""
    merges = gzip.open(bpe_path).read().decode("utf-8").split("\n")
    merges = merges[1:49152 - 256 - 2 + 1]
    merges = [tuple(m.split()) for m in merges]
    vocab = list(bytes_to_unicode().values())
    vocab = vocab + [v + "</w>" for v in vocab]
    for m in merges:
        vocab.append("".join(m))
    vocab.extend(["<|startoftext|>", "<|endoftext|>"])
    encoder = dict(zip(vocab, range(len(vocab))))
    assert len(encoder) == 49408, len(encoder)
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "vocab.json"), "w", encoding="utf-8") as f:
        f.write(json.dumps(encoder, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
    with open(os.path.join(out_dir, "merges.txt"), "w", encoding="utf-8") as f:
        f.write("#version: 0.2\n")
        for m in merges:
            f.write(" ".join(m) + "\n")
    if family == "sd1":
        special = {"bos_token": "<|startoftext|>", "eos_token": "<|endoftext|>",
                   "pad_token": "<|endoftext|>", "unk_token": "<|endoftext|>"}
        config = {"add_prefix_space": False, "bos_token": "<|startoftext|>", "do_lower_case": True,
                  "eos_token": "<|endoftext|>", "errors": "replace", "model_max_length": 77,
                  "pad_token": "<|endoftext|>", "tokenizer_class": "CLIPTokenizer",
                  "unk_token": "<|endoftext|>"}
    else:
        special = {"bos_token": _added("<|startoftext|>"), "eos_token": _added("<|endoftext|>"),
                   "pad_token": "!", "unk_token": _added("<|endoftext|>")}
        config = {"add_prefix_space": False, "bos_token": {"__type": "AddedToken", **_added("<|startoftext|>")},
                  "do_lower_case": True, "eos_token": {"__type": "AddedToken", **_added("<|endoftext|>")},
                  "errors": "replace", "model_max_length": 77, "name_or_path": "stabilityai/stable-diffusion-2-1-base",
                  "pad_token": "!" if pad_in_config else "<|endoftext|>",
                  "special_tokens_map_file": "./special_tokens_map.json", "tokenizer_class": "CLIPTokenizer",
                  "unk_token": {"__type": "AddedToken", **_added("<|endoftext|>")}}
    with open(os.path.join(out_dir, "special_tokens_map.json"), "w") as f:
        json.dump(special, f, indent=2)
        f.write("\n")
    with open(os.path.join(out_dir, "tokenizer_config.json"), "w") as f:
        json.dump(config, f, indent=2)
        f.write("\n")
    log(f"tokenizer ({family}): {len(encoder)} tokens, {len(merges)} merges, pad {special['pad_token']!r}")


def export(model, args, path, input_names, output_names, dynamic_axes, opset):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    torch.onnx.export(model, args, path, input_names=input_names, output_names=output_names,
                      dynamic_axes=dynamic_axes, do_constant_folding=True, opset_version=opset)


def finish_dir(tmp_dir, final_dir):
    if os.path.exists(final_dir):
        shutil.rmtree(final_dir)
    os.rename(tmp_dir, final_dir)


def check(path):
    import onnx
    onnx.checker.check_model(path)  # the path form, which handles external data and > 2 GB


def summary(path):
    import onnx
    m = onnx.load(path, load_external_data=False)

    def dims(vi):
        return [d.dim_param or d.dim_value for d in vi.type.tensor_type.shape.dim]

    def typ(vi):
        return onnx.TensorProto.DataType.Name(vi.type.tensor_type.elem_type).lower()

    ops = {}
    for n in m.graph.node:
        ops[n.op_type] = ops.get(n.op_type, 0) + 1
    return {"opset": m.opset_import[0].version,
            "inputs": [f"{i.name} {typ(i)} {dims(i)}" for i in m.graph.input],
            "outputs": [f"{o.name} {typ(o)} {dims(o)}" for o in m.graph.output],
            "nodes": len(m.graph.node), "ops": dict(sorted(ops.items()))}


def shorten_names(path):
    """Rename the nodes and intermediate values of the model at path as torch 1.12's exporter
    named them ("MatMul_123", "456") instead of torch 1.13's scoped names
    ("/middle_block/middle_block.1/transformer_blocks.0/attn1/Shape_3_output_0"). The graph is
    unchanged; the names are most of a tiny model's bytes (a UNet has about 7,400 nodes).
    Graph inputs, outputs and initializers keep their names."""
    import onnx
    m = onnx.load(path)
    g = m.graph
    keep = {v.name for v in g.input} | {v.name for v in g.output} | {i.name for i in g.initializer}
    rename = {}
    for n in g.node:
        for o in n.output:
            if o and o not in keep and o not in rename:
                rename[o] = str(len(rename) + 1)
    for i, n in enumerate(g.node):
        n.name = f"{n.op_type}_{i}"
        for j, x in enumerate(n.input):
            if x in rename:
                n.input[j] = rename[x]
        for j, x in enumerate(n.output):
            if x in rename:
                n.output[j] = rename[x]
    for v in g.value_info:
        v.name = rename.get(v.name, v.name)
    onnx.save_model(m, path)


def rescale_last(conv, y, target_std, what, target_mean=None):
    """Scale conv (the last layer, linear in its weights) so that its output y gets target_std;
    with target_mean, also shift each channel's mean there."""
    mean = y.mean(dim=(0, 2, 3))
    std = float(y.std()) if target_mean is None else float((y - mean[None, :, None, None]).std())
    if not np.isfinite(std) or std == 0:
        raise SystemExit(f"{what}: output std is {std}")
    k = target_std / std
    with torch.no_grad():
        conv.weight.mul_(k)
        if target_mean is None:
            conv.bias.mul_(k)
        else:
            conv.bias.copy_((conv.bias - mean) * k + target_mean)
    log(f"{what}: output std {std:.4g} before, last conv scaled by {k:.4g}")


# ---- components ----------------------------------------------------------------------------

class Builder:
    def __init__(self, a, kind):
        self.a = a
        self.kind = kind
        self.spec = KINDS[kind]
        self.out = os.path.abspath(a.out)
        self.info = {}

    def signature(self, comp):
        """What the component's files depend on: same signature, same bytes (where torch allows)."""
        a, s = self.a, self.spec
        sig = {"size": a.size, "seed": a.seed}
        if comp == "tokenizer":
            return {"net": f"tokenizer/{s['family']}", "pad_in_config": a.pad_in_config and s["family"] == "sd2"}
        if comp == "text_encoder":
            sig["net"] = f"text_encoder/{s['family']}"
        elif comp == "unet":
            sig.update(net=f"unet/{s['unet']}", timestep=a.timestep, calibrated=not a.no_calibrate,
                       external_data=a.size == "real")
        else:  # the VAEs are the same network for SD 1.x and 2.x
            sig["net"] = comp
            if comp in TINY_COMPONENTS:
                sig["size"] = "real"  # --size small builds the real TAESD
        if a.size == "small":
            sig["short_names"] = not a.long_names
        sig["opset"] = a.opset
        sig["torch"] = torch.__version__
        return sig

    def check(self, path):
        if self.a.size == "small" and not self.a.long_names:
            shorten_names(path)
        check(path)

    def path(self, comp):
        return os.path.join(self.out, comp)

    def have(self, comp):
        info = self.load_info(self.out)
        return os.path.isdir(self.path(comp)) and info.get(comp, {}).get("signature") == self.signature(comp)

    @staticmethod
    def load_info(d):
        p = os.path.join(d, "make_export.json")
        if not os.path.exists(p):
            return {}
        with open(p) as f:
            return json.load(f).get("components", {})

    def link_from(self, src_root, comp):
        src = os.path.join(src_root, comp)
        tmp = self.path(comp) + ".tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        os.makedirs(tmp)
        how = "hard-linked"
        for name in sorted(os.listdir(src)):
            s, d = os.path.join(src, name), os.path.join(tmp, name)
            try:
                os.link(s, d)
            except OSError:
                shutil.copy2(s, d)
                how = "copied"
        finish_dir(tmp, self.path(comp))
        log(f"{comp}: {how} from {src}")

    def build(self, comp):
        t0 = time.time()
        entry = {"signature": self.signature(comp)}
        if comp == "tokenizer":
            write_tokenizer(self.a.bpe, self.path(comp), self.spec["family"], self.a.pad_in_config)
        elif comp == "text_encoder":
            entry["parameters"] = self.text_encoder()
        elif comp == "unet":
            entry["parameters"] = self.unet()
        elif comp in ("vae_decoder", "vae_encoder"):
            entry["parameters"] = self.vae(comp)
        elif comp in TINY_COMPONENTS:
            entry["parameters"] = self.taesd(comp)
        entry["seconds"] = round(time.time() - t0, 1)
        return entry

    def expect(self, key, n):
        if self.a.size == "real" and EXPECTED_PARAMS[key] != n:
            raise SystemExit(f"{key}: {n:,} parameters, the real network has {EXPECTED_PARAMS[key]:,}")

    def text_encoder(self):
        cfg = text_config(self.spec["family"], self.a.size)
        torch.manual_seed(self.a.seed)
        model = clip_text.CLIPTextTransformer(cfg).eval()
        n = count(model)
        self.expect(f"text_encoder/{self.spec['family']}", n)
        ids = torch.full((1, 77), 49407, dtype=torch.int32)  # "A sample prompt", padded
        if self.spec["family"] == "sd2":
            ids[:] = 0  # SD 2.x pads with "!" (id 0) after the first <|endoftext|>
        ids[0, :5] = torch.tensor([49406, 320, 6888, 12272, 49407], dtype=torch.int32)
        with torch.no_grad():
            h, pooled = model(ids)
            assert torch.isfinite(h).all() and torch.isfinite(pooled).all()
            log(f"text_encoder: {n:,} parameters, last_hidden_state {list(h.shape)} std {float(h.std()):.3g}")
            tmp = self.path("text_encoder") + ".tmp"
            shutil.rmtree(tmp, ignore_errors=True)
            export(model, (ids,), os.path.join(tmp, "model.onnx"), ["input_ids"],
                   ["last_hidden_state", "pooler_output"], {"input_ids": {0: "batch", 1: "sequence"}}, self.a.opset)
        del model
        gc.collect()
        self.check(os.path.join(tmp, "model.onnx"))
        finish_dir(tmp, self.path("text_encoder"))
        return n

    def vae(self, comp):
        a = self.a
        torch.manual_seed(a.seed)
        vae = AutoencoderKL(**vae_config(a.size)).eval()
        tmp = self.path(comp) + ".tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        side = 512 if a.size == "real" else 64
        if comp == "vae_decoder":
            dec = VAEDecoder(vae).eval()
            n = count(vae.decoder) + count(vae.post_quant_conv)
            self.expect(comp, n)
            with torch.no_grad():
                torch.manual_seed(a.seed + 1)
                z = torch.randn(1, 4, side // 8, side // 8) / 0.18215
                y = dec(z)
                rescale_last(vae.decoder.conv_out, y, 0.5, comp)
                y = dec(z) if a.size == "small" else y * (0.5 / float(y.std()))
                assert torch.isfinite(y).all()
                log(f"{comp}: {n:,} parameters, image std {float(y.std()):.3g}")
                export(dec, (z,), os.path.join(tmp, "model.onnx"), ["latent_sample"], ["sample"],
                       {"latent_sample": {0: "batch", 1: "channels", 2: "height", 3: "width"}}, a.opset)
        else:
            enc = VAEEncoderSample(vae).eval()
            n = count(vae.encoder) + count(vae.quant_conv)
            self.expect(comp, n)
            with torch.no_grad():
                torch.manual_seed(a.seed + 2)
                x = torch.rand(1, 3, side, side) * 2 - 1
                moments = vae.encode_moments(x)
                mean, logvar = torch.chunk(moments, 2, dim=1)
                assert torch.isfinite(moments).all()
                log(f"{comp}: {n:,} parameters, latent mean std {float(mean.std()):.3g}, "
                    f"logvar in [{float(logvar.min()):.3g}, {float(logvar.max()):.3g}]")
                export(enc, (x,), os.path.join(tmp, "model.onnx"), ["sample"], ["latent_sample"],
                       {"sample": {0: "batch", 1: "channels", 2: "height", 3: "width"}}, a.opset)
        self.check(os.path.join(tmp, "model.onnx"))
        finish_dir(tmp, self.path(comp))
        return n

    def taesd(self, comp):
        """TAESD halves as diffusers' AutoencoderTiny runs them: see sdarch/taesd.py."""
        a = self.a
        tmp = self.path(comp) + ".tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        with torch.no_grad():
            if comp == "vae_decoder_tiny":
                torch.manual_seed(a.seed)
                net = TAESDDecoder()
                n = count(net)
                torch.manual_seed(a.seed + 1)
                z = torch.randn(1, 4, 64, 64)  # the UNet's latents, std about 1
                # taesd's own output is in [0, 1]: centre it on 0.5 with std 0.25 (image std 0.5)
                rescale_last(net[-1], net(z), 0.25, comp, target_mean=0.5)
                model = TinyDecoder(net).eval()
                y = model(z)
                log(f"{comp}: {n:,} parameters, image mean {float(y.mean()):.3g} std {float(y.std()):.3g}")
                export(model, (z,), os.path.join(tmp, "model.onnx"), ["latent_sample"], ["sample"],
                       {"latent_sample": {0: "batch", 2: "height", 3: "width"},
                        "sample": {0: "batch", 2: "image_height", 3: "image_width"}}, a.opset)
            else:
                torch.manual_seed(a.seed)
                net = TAESDEncoder()
                n = count(net)
                torch.manual_seed(a.seed + 2)
                x = torch.rand(1, 3, 512, 512) * 2 - 1
                rescale_last(net[-1], net(x.add(1).div(2)), 1.0, comp, target_mean=0.0)
                model = TinyEncoder(net).eval()
                y = model(x)
                log(f"{comp}: {n:,} parameters, latent mean {float(y.mean()):.3g} std {float(y.std()):.3g}")
                export(model, (x,), os.path.join(tmp, "model.onnx"), ["sample"], ["latent_sample"],
                       {"sample": {0: "batch", 2: "height", 3: "width"},
                        "latent_sample": {0: "batch", 2: "latent_height", 3: "latent_width"}}, a.opset)
        self.expect(comp, n)
        self.check(os.path.join(tmp, "model.onnx"))
        finish_dir(tmp, self.path(comp))
        return n

    def unet(self):
        import onnx
        a, net = self.a, self.spec["unet"]
        cfg = unet_config(net, a.size)
        torch.manual_seed(a.seed)
        model = UNetModel(**cfg).eval()
        n = count(model)
        self.expect(f"unet/{net}", n)
        log(f"unet ({net}): {n:,} parameters built, rss {rss_gb():.1f} GB")
        torch.manual_seed(a.seed + 1)
        side = 64 if a.size == "real" else 16
        sample = torch.randn(2, 4, side, side)
        ctx = torch.randn(2, 77, cfg["context_dim"])
        if a.timestep == "int64":
            t, t_cal = torch.LongTensor([0, 1]), torch.LongTensor([500])  # as the Oct 2022 diffusers script
        else:
            t, t_cal = torch.randn(2), torch.tensor([500.0])
        args, names, axes = (sample, t, ctx), ["sample", "timestep", "encoder_hidden_states"], {
            "sample": {0: "batch", 1: "channels", 2: "height", 3: "width"},
            "timestep": {0: "batch"},
            "encoder_hidden_states": {0: "batch", 1: "sequence"}}
        cal_extra = ()
        if net == "lcm":
            # LatentConsistencyModelPipeline: w = guidance_scale - 1 (8.5 by default in LCM's card)
            cond = guidance_scale_embedding(torch.tensor([7.5, 7.5]), 256)
            args, names = args + (cond,), names + ["timestep_cond"]
            axes["timestep_cond"] = {0: "batch"}
            cal_extra = (cond[:1],)
        with torch.no_grad():
            if not a.no_calibrate:
                t0 = time.time()
                y = model(sample[:1], t_cal, ctx[:1], *cal_extra)
                log(f"unet: calibration forward {time.time() - t0:.1f} s, rss {rss_gb():.1f} GB")
                rescale_last(model.out[2], y, 1.0, "unet")
                del y
            t0 = time.time()
            if a.size == "small":
                tmp = self.path("unet") + ".tmp"
                shutil.rmtree(tmp, ignore_errors=True)
                export(model, args, os.path.join(tmp, "model.onnx"), names, ["out_sample"], axes, a.opset)
            else:
                raw = self.path("unet") + ".raw"  # torch writes one file per tensor here
                shutil.rmtree(raw, ignore_errors=True)
                export(model, args, os.path.join(raw, "model.onnx"), names, ["out_sample"], axes, a.opset)
            log(f"unet: torch.onnx.export {time.time() - t0:.0f} s, rss {rss_gb():.1f} GB")
        del model
        gc.collect()
        if a.size == "real":
            tmp = self.path("unet") + ".tmp"
            shutil.rmtree(tmp, ignore_errors=True)
            os.makedirs(tmp)
            m = onnx.load(os.path.join(raw, "model.onnx"), load_external_data=True)
            shutil.rmtree(raw)
            onnx.save_model(m, os.path.join(tmp, "model.onnx"), save_as_external_data=True,
                            all_tensors_to_one_file=True, location="weights.pb", size_threshold=1024,
                            convert_attribute=False)
            del m
            gc.collect()
            log(f"unet: saved with weights.pb, rss {rss_gb():.1f} GB")
        self.check(os.path.join(tmp, "model.onnx"))
        finish_dir(tmp, self.path("unet"))
        return n


def write_index(out, kind, present):
    if kind == "taesd":
        return
    index = {"_class_name": PIPELINES[kind], "_diffusers_version": "0.24.0",
             "feature_extractor": [None, None], "requires_safety_checker": False, "safety_checker": [None, None],
             "scheduler": ["diffusers", SCHEDULERS[kind]["_class_name"]],
             "text_encoder": ["diffusers", "OnnxRuntimeModel"], "tokenizer": ["transformers", "CLIPTokenizer"],
             "unet": ["diffusers", "OnnxRuntimeModel"], "vae_decoder": ["diffusers", "OnnxRuntimeModel"],
             "vae_encoder": ["diffusers", "OnnxRuntimeModel"]}
    with open(os.path.join(out, "model_index.json"), "w") as f:
        json.dump(index, f, indent=2)
        f.write("\n")
    os.makedirs(os.path.join(out, "scheduler"), exist_ok=True)
    with open(os.path.join(out, "scheduler", "scheduler_config.json"), "w") as f:
        json.dump({"_diffusers_version": "0.24.0", **SCHEDULERS[kind]}, f, indent=2, sort_keys=True)
        f.write("\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kind", required=True, choices=sorted(KINDS))
    ap.add_argument("--size", required=True, choices=["real", "small"])
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--opset", type=int, default=14)
    ap.add_argument("--timestep", choices=["int64", "float32"], default="int64",
                    help="the UNet's timestep type (int64: diffusers script of Oct 2022 and optimum; "
                         "float32: diffusers' script from Nov 2022 on)")
    ap.add_argument("--bpe", default=DEFAULT_BPE, help="CLIP's bpe_simple_vocab_16e6.txt.gz")
    ap.add_argument("--only", help="comma-separated components to build (default: the kind's; "
                                   "vae_decoder_tiny,vae_encoder_tiny may be added to any kind)")
    ap.add_argument("--reuse", action="append", default=[], metavar="DIR",
                    help="hard-link components with the same signature from this export (repeatable)")
    ap.add_argument("--force", action="store_true", help="rebuild components that are already there")
    ap.add_argument("--no-calibrate", action="store_true", help="skip the UNet's calibration forward pass")
    ap.add_argument("--pad-in-config", action="store_true",
                    help="sd2 tokenizer: write pad_token \"!\" in tokenizer_config.json too (SD 2.x ships "
                         "\"<|endoftext|>\" there and \"!\" in special_tokens_map.json, which wins)")
    ap.add_argument("--long-names", action="store_true",
                    help="--size small: keep torch 1.13's scoped node and value names (about 1.7 MB per UNet)")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    b = Builder(a, a.kind)
    want = list(b.spec["components"])
    if a.only:
        want = [c.strip() for c in a.only.split(",") if c.strip()]
        for c in want:
            if c not in SD_COMPONENTS + TINY_COMPONENTS or (a.kind == "taesd" and c not in TINY_COMPONENTS):
                raise SystemExit(f"unknown component {c!r} for {a.kind}")
    out = b.out
    os.makedirs(out, exist_ok=True)
    info = b.load_info(out)
    log(f"{a.kind} ({a.size}) in {out}: torch {torch.__version__}, opset {a.opset}, seed {a.seed}")
    t_all = time.time()
    reuse_dirs = [os.path.abspath(d) for d in a.reuse]
    # TAESD comes along from any reused export that has it, whatever the kind
    optional = [c for c in TINY_COMPONENTS if c not in want and a.kind != "taesd"]
    for comp in want + optional:
        sig = b.signature(comp)
        if not a.force and b.have(comp):
            log(f"{comp}: already there")
            continue
        src = next((d for d in reuse_dirs if b.load_info(d).get(comp, {}).get("signature") == sig
                    and os.path.isdir(os.path.join(d, comp))), None)
        if src is not None:
            b.link_from(src, comp)
            info[comp] = dict(b.load_info(src)[comp], reused_from=src)
            continue
        if comp in optional:
            continue
        info[comp] = b.build(comp)
        gc.collect()
        if comp != "tokenizer":
            path = os.path.join(out, comp, "model.onnx")
            info[comp].update(summary(path))
            info[comp]["files"] = {f: os.path.getsize(os.path.join(out, comp, f))
                                   for f in sorted(os.listdir(os.path.join(out, comp)))}
        with open(os.path.join(out, "make_export.json"), "w") as f:  # after each, for a rerun to resume
            json.dump({"kind": a.kind, "size": a.size, "components": info}, f, indent=1)
    write_index(out, a.kind, info)
    with open(os.path.join(out, "make_export.json"), "w") as f:
        json.dump({"kind": a.kind, "size": a.size, "components": info}, f, indent=1)
    for comp, e in info.items():
        if "inputs" in e:
            log(f"{comp}: {e.get('parameters', 0):,} params; in {e['inputs']}; out {e['outputs']}; files {e['files']}")
    log(f"done in {time.time() - t_all:.0f} s")


if __name__ == "__main__":
    main()
