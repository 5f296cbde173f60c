# Stable Diffusion 1.x / 2.x UNet, copied and trimmed from CompVis/stable-diffusion (commit 21f890f9):
#   ldm/modules/diffusionmodules/openaimodel.py  (TimestepEmbedSequential, Upsample, Downsample,
#                                                  ResBlock, UNetModel)
#   ldm/modules/attention.py                      (GEGLU, FeedForward, CrossAttention,
#                                                  BasicTransformerBlock, SpatialTransformer)
#   ldm/modules/diffusionmodules/util.py          (timestep_embedding, normalization)
# with the SD 2.x options of Stability-AI/stablediffusion (commit cf1d67a6), same files:
#   num_head_channels (heads = channels // num_head_channels, dim_head = num_head_channels) and
#   use_linear_in_transformer (SpatialTransformer's proj_in/proj_out are nn.Linear applied to
#   the [b, h*w, c] tokens instead of 1x1 convs on [b, c, h, w]);
# and the LCM option of huggingface/diffusers (commit 58eb52c0), src/diffusers/models/embeddings.py
#   TimestepEmbedding(cond_proj_dim=...): UNet2DConditionModel(time_cond_proj_dim=256) adds
#   cond_proj(timestep_cond), a Linear(256 -> model_channels, bias=False), to the sinusoidal
#   timestep embedding before the time-embedding MLP.
# Changes for a random-weight ONNX export (the architecture and every parameter shape are unchanged):
#   - no einops: rearrange is written out with reshape/permute, and einsum with bmm, as the
#     diffusers CrossAttention of late 2022 did (so the ONNX graph has MatMul, not Einsum);
#   - no gradient checkpointing, fp16 switches, class labels, codebook head or 1-D/3-D cases;
#   - no zero_module: every layer keeps PyTorch's default init, so a random UNet does not
#     output zeros (make_sd15.py rescales the last conv instead);
#   - the timestep is broadcast to the batch first (timesteps.expand(batch)) as diffusers'
#     UNet2DConditionModel does, so the export takes a timestep of length 1 for a batch of 2;
#   - norm_groups (32 in every real SD) is a parameter, so that the tiny test UNets of
#     make_export.py --size small can have fewer than 32 channels.
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


# ---- util.py ---------------------------------------------------------------------------

def timestep_embedding(timesteps, dim, max_period=10000):
    """Sinusoidal timestep embeddings, cos first (= diffusers flip_sin_to_cos=True, shift 0)."""
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(start=0, end=half, dtype=torch.float32) / half)
    args = timesteps[:, None].float() * freqs[None]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=-1)


NORM_GROUPS = 32  # GroupNorm32 in CompVis; UNetModel(norm_groups=...) sets it while it builds


def normalization(channels):
    # GroupNorm32 in CompVis (it casts to float32 and back, a no-op here).
    return nn.GroupNorm(NORM_GROUPS, channels)


# ---- attention.py ----------------------------------------------------------------------

class GEGLU(nn.Module):
    def __init__(self, dim_in, dim_out):
        super().__init__()
        self.proj = nn.Linear(dim_in, dim_out * 2)

    def forward(self, x):
        x, gate = self.proj(x).chunk(2, dim=-1)
        return x * F.gelu(gate)


class FeedForward(nn.Module):
    def __init__(self, dim, mult=4, dropout=0.0):
        super().__init__()
        inner_dim = int(dim * mult)
        self.net = nn.Sequential(GEGLU(dim, inner_dim), nn.Dropout(dropout), nn.Linear(inner_dim, dim))

    def forward(self, x):
        return self.net(x)


def Normalize(in_channels):
    return nn.GroupNorm(num_groups=NORM_GROUPS, num_channels=in_channels, eps=1e-6, affine=True)


class CrossAttention(nn.Module):
    def __init__(self, query_dim, context_dim=None, heads=8, dim_head=64, dropout=0.0):
        super().__init__()
        inner_dim = dim_head * heads
        context_dim = query_dim if context_dim is None else context_dim
        self.scale = dim_head ** -0.5
        self.heads = heads
        self.to_q = nn.Linear(query_dim, inner_dim, bias=False)
        self.to_k = nn.Linear(context_dim, inner_dim, bias=False)
        self.to_v = nn.Linear(context_dim, inner_dim, bias=False)
        self.to_out = nn.Sequential(nn.Linear(inner_dim, query_dim), nn.Dropout(dropout))

    def _heads_to_batch(self, t):  # 'b n (h d) -> (b h) n d'
        b, n, c = t.shape
        h = self.heads
        return t.reshape(b, n, h, c // h).permute(0, 2, 1, 3).reshape(b * h, n, c // h)

    def _batch_to_heads(self, t):  # '(b h) n d -> b n (h d)'
        bh, n, d = t.shape
        h = self.heads
        return t.reshape(bh // h, h, n, d).permute(0, 2, 1, 3).reshape(bh // h, n, h * d)

    def forward(self, x, context=None):
        q = self.to_q(x)
        context = x if context is None else context
        k = self.to_k(context)
        v = self.to_v(context)
        q, k, v = self._heads_to_batch(q), self._heads_to_batch(k), self._heads_to_batch(v)
        sim = torch.bmm(q, k.transpose(1, 2)) * self.scale  # einsum('b i d, b j d -> b i j')
        attn = sim.softmax(dim=-1)
        out = torch.bmm(attn, v)  # einsum('b i j, b j d -> b i d')
        return self.to_out(self._batch_to_heads(out))


class BasicTransformerBlock(nn.Module):
    def __init__(self, dim, n_heads, d_head, dropout=0.0, context_dim=None):
        super().__init__()
        self.attn1 = CrossAttention(query_dim=dim, heads=n_heads, dim_head=d_head, dropout=dropout)
        self.ff = FeedForward(dim, dropout=dropout)
        self.attn2 = CrossAttention(query_dim=dim, context_dim=context_dim, heads=n_heads, dim_head=d_head,
                                    dropout=dropout)
        self.norm1 = nn.LayerNorm(dim)
        self.norm2 = nn.LayerNorm(dim)
        self.norm3 = nn.LayerNorm(dim)

    def forward(self, x, context=None):
        x = self.attn1(self.norm1(x)) + x
        x = self.attn2(self.norm2(x), context=context) + x
        x = self.ff(self.norm3(x)) + x
        return x


class SpatialTransformer(nn.Module):
    def __init__(self, in_channels, n_heads, d_head, depth=1, dropout=0.0, context_dim=None, use_linear=False):
        super().__init__()
        self.in_channels = in_channels
        self.inner_dim = inner_dim = n_heads * d_head
        self.norm = Normalize(in_channels)
        if not use_linear:
            self.proj_in = nn.Conv2d(in_channels, inner_dim, kernel_size=1, stride=1, padding=0)
        else:
            self.proj_in = nn.Linear(in_channels, inner_dim)
        self.transformer_blocks = nn.ModuleList(
            [BasicTransformerBlock(inner_dim, n_heads, d_head, dropout=dropout, context_dim=context_dim)
             for _ in range(depth)])
        if not use_linear:
            self.proj_out = nn.Conv2d(inner_dim, in_channels, kernel_size=1, stride=1, padding=0)
        else:
            # stablediffusion writes nn.Linear(in_channels, inner_dim), the same layer in every
            # SD 2.x config (inner_dim == in_channels there); this is the orientation that
            # also holds when they differ, as in diffusers' Transformer2DModel.
            self.proj_out = nn.Linear(inner_dim, in_channels)
        self.use_linear = use_linear

    def forward(self, x, context=None):
        b, c, h, w = x.shape
        x_in = x
        x = self.norm(x)
        if not self.use_linear:
            x = self.proj_in(x)
        inner = x.shape[1]
        x = x.permute(0, 2, 3, 1).reshape(b, h * w, inner)  # 'b c h w -> b (h w) c'
        if self.use_linear:
            x = self.proj_in(x)
            inner = self.inner_dim
        for block in self.transformer_blocks:
            x = block(x, context=context)
        if self.use_linear:
            x = self.proj_out(x)
            inner = c
        x = x.reshape(b, h, w, inner).permute(0, 3, 1, 2)  # 'b (h w) c -> b c h w'
        if not self.use_linear:
            x = self.proj_out(x)
        return x + x_in


# ---- openaimodel.py --------------------------------------------------------------------

class TimestepBlock(nn.Module):
    pass


class TimestepEmbedSequential(nn.Sequential, TimestepBlock):
    def forward(self, x, emb, context=None):
        for layer in self:
            if isinstance(layer, TimestepBlock):
                x = layer(x, emb)
            elif isinstance(layer, SpatialTransformer):
                x = layer(x, context)
            else:
                x = layer(x)
        return x


class Upsample(nn.Module):
    def __init__(self, channels, out_channels=None):
        super().__init__()
        self.channels = channels
        self.out_channels = out_channels or channels
        self.conv = nn.Conv2d(self.channels, self.out_channels, 3, padding=1)

    def forward(self, x):
        x = F.interpolate(x, scale_factor=2, mode="nearest")
        return self.conv(x)


class Downsample(nn.Module):
    def __init__(self, channels, out_channels=None):
        super().__init__()
        self.channels = channels
        self.out_channels = out_channels or channels
        self.op = nn.Conv2d(self.channels, self.out_channels, 3, stride=2, padding=1)

    def forward(self, x):
        return self.op(x)


class ResBlock(TimestepBlock):
    def __init__(self, channels, emb_channels, dropout, out_channels=None):
        super().__init__()
        self.channels = channels
        self.out_channels = out_channels or channels
        self.in_layers = nn.Sequential(
            normalization(channels),
            nn.SiLU(),
            nn.Conv2d(channels, self.out_channels, 3, padding=1),
        )
        self.emb_layers = nn.Sequential(nn.SiLU(), nn.Linear(emb_channels, self.out_channels))
        self.out_layers = nn.Sequential(
            normalization(self.out_channels),
            nn.SiLU(),
            nn.Dropout(p=dropout),
            nn.Conv2d(self.out_channels, self.out_channels, 3, padding=1),  # zero_module in CompVis
        )
        if self.out_channels == channels:
            self.skip_connection = nn.Identity()
        else:
            self.skip_connection = nn.Conv2d(channels, self.out_channels, 1)

    def forward(self, x, emb):
        h = self.in_layers(x)
        emb_out = self.emb_layers(emb).type(h.dtype)
        while len(emb_out.shape) < len(h.shape):
            emb_out = emb_out[..., None]
        h = h + emb_out
        h = self.out_layers(h)
        return self.skip_connection(x) + h


class UNetModel(nn.Module):
    """UNetModel with use_spatial_transformer=True, legacy=False, conv_resample=True,
    use_scale_shift_norm=False, resblock_updown=False (the SD 1.x and 2.x configuration).
    SD 1.x: num_heads=8, context_dim=768. SD 2.x: num_head_channels=64, context_dim=1024,
    use_linear_in_transformer=True. LCM (diffusers' time_cond_proj_dim): time_cond_proj_dim=256."""

    def __init__(self, in_channels=4, model_channels=320, out_channels=4, num_res_blocks=2,
                 attention_resolutions=(4, 2, 1), dropout=0.0, channel_mult=(1, 2, 4, 4),
                 num_heads=8, num_head_channels=-1, transformer_depth=1, context_dim=768,
                 use_linear_in_transformer=False, time_cond_proj_dim=None, norm_groups=32):
        super().__init__()
        global NORM_GROUPS
        saved_groups, NORM_GROUPS = NORM_GROUPS, norm_groups
        try:
            self._build(in_channels, model_channels, out_channels, num_res_blocks, attention_resolutions,
                        dropout, channel_mult, num_heads, num_head_channels, transformer_depth, context_dim,
                        use_linear_in_transformer, time_cond_proj_dim)
        finally:
            NORM_GROUPS = saved_groups

    def _build(self, in_channels, model_channels, out_channels, num_res_blocks, attention_resolutions,
               dropout, channel_mult, num_heads, num_head_channels, transformer_depth, context_dim,
               use_linear, time_cond_proj_dim):
        self.in_channels = in_channels
        self.model_channels = model_channels
        self.out_channels = out_channels

        def heads_for(ch):
            # openaimodel.py: num_head_channels == -1 fixes the number of heads (SD 1.x),
            # otherwise the width of a head (SD 2.x)
            if num_head_channels == -1:
                return num_heads, ch // num_heads
            return ch // num_head_channels, num_head_channels

        time_embed_dim = model_channels * 4
        self.time_embed = nn.Sequential(
            nn.Linear(model_channels, time_embed_dim),
            nn.SiLU(),
            nn.Linear(time_embed_dim, time_embed_dim),
        )
        self.input_blocks = nn.ModuleList(
            [TimestepEmbedSequential(nn.Conv2d(in_channels, model_channels, 3, padding=1))])
        input_block_chans = [model_channels]
        ch = model_channels
        ds = 1
        for level, mult in enumerate(channel_mult):
            for _ in range(num_res_blocks):
                layers = [ResBlock(ch, time_embed_dim, dropout, out_channels=mult * model_channels)]
                ch = mult * model_channels
                if ds in attention_resolutions:
                    n_heads, dim_head = heads_for(ch)
                    layers.append(SpatialTransformer(ch, n_heads, dim_head, depth=transformer_depth,
                                                     context_dim=context_dim, use_linear=use_linear))
                self.input_blocks.append(TimestepEmbedSequential(*layers))
                input_block_chans.append(ch)
            if level != len(channel_mult) - 1:
                self.input_blocks.append(TimestepEmbedSequential(Downsample(ch, out_channels=ch)))
                input_block_chans.append(ch)
                ds *= 2

        n_heads, dim_head = heads_for(ch)
        self.middle_block = TimestepEmbedSequential(
            ResBlock(ch, time_embed_dim, dropout),
            SpatialTransformer(ch, n_heads, dim_head, depth=transformer_depth, context_dim=context_dim,
                               use_linear=use_linear),
            ResBlock(ch, time_embed_dim, dropout),
        )

        self.output_blocks = nn.ModuleList([])
        for level, mult in list(enumerate(channel_mult))[::-1]:
            for i in range(num_res_blocks + 1):
                ich = input_block_chans.pop()
                layers = [ResBlock(ch + ich, time_embed_dim, dropout, out_channels=model_channels * mult)]
                ch = model_channels * mult
                if ds in attention_resolutions:
                    n_heads, dim_head = heads_for(ch)
                    layers.append(SpatialTransformer(ch, n_heads, dim_head, depth=transformer_depth,
                                                     context_dim=context_dim, use_linear=use_linear))
                if level and i == num_res_blocks:
                    layers.append(Upsample(ch, out_channels=ch))
                    ds //= 2
                self.output_blocks.append(TimestepEmbedSequential(*layers))

        self.out = nn.Sequential(
            normalization(ch),
            nn.SiLU(),
            nn.Conv2d(model_channels, out_channels, 3, padding=1),  # zero_module in CompVis
        )
        # diffusers TimestepEmbedding.cond_proj (None unless time_cond_proj_dim is set). Made
        # last, so that every other weight is the one the same seed gives the plain UNet.
        self.cond_proj = (nn.Linear(time_cond_proj_dim, model_channels, bias=False)
                          if time_cond_proj_dim else None)

    def forward(self, x, timesteps, context, timestep_cond=None):
        # diffusers: "broadcast to batch dimension in a way that's compatible with ONNX/Core ML"
        timesteps = timesteps.expand(x.shape[0])
        t_emb = timestep_embedding(timesteps, self.model_channels)
        if self.cond_proj is not None:
            # diffusers TimestepEmbedding.forward: sample = sample + self.cond_proj(condition)
            t_emb = t_emb + self.cond_proj(timestep_cond)
        emb = self.time_embed(t_emb)
        hs = []
        h = x
        for module in self.input_blocks:
            h = module(h, emb, context)
            hs.append(h)
        h = self.middle_block(h, emb, context)
        for module in self.output_blocks:
            h = torch.cat([h, hs.pop()], dim=1)
            h = module(h, emb, context)
        return self.out(h)


def guidance_scale_embedding(w, embedding_dim=256):
    """diffusers LatentConsistencyModelPipeline.get_guidance_scale_embedding: the LCM UNet's
    timestep_cond for guidance scale w + 1 (w is the pipeline's guidance_scale - 1)."""
    w = w * 1000.0
    half_dim = embedding_dim // 2
    emb = math.log(10000.0) / (half_dim - 1)
    emb = torch.exp(torch.arange(half_dim, dtype=torch.float32) * -emb)
    emb = w.float()[:, None] * emb[None, :]
    return torch.cat([torch.sin(emb), torch.cos(emb)], dim=1)
