# CLIP text transformer (CLIPTextModel's text_model), copied and trimmed from
# huggingface/transformers src/transformers/models/clip/modeling_clip.py
# (CLIPTextEmbeddings, CLIPAttention with eager_attention_forward, CLIPMLP, CLIPEncoderLayer,
# CLIPTextTransformer.forward's causal mask, final layer norm and argmax pooling), with
#   Config (SD 1.x): the text_config of openai/clip-vit-large-patch14: vocab 49408, width 768,
#     12 layers, 12 heads, MLP 3072, quick_gelu, layer_norm_eps 1e-5, 77 positions;
#   ConfigSD2 (SD 2.x): text_encoder/config.json of stabilityai/stable-diffusion-2-1(-base),
#     diffusers' conversion of OpenCLIP ViT-H/14's text tower (scripts/convert_original_stable_
#     diffusion_to_diffusers.py, convert_open_clip_checkpoint): width 1024, 16 heads, MLP 4096,
#     hidden_act "gelu" (exact erf GELU, not quick_gelu), 23 layers: SD 2 conditions on the
#     penultimate layer of the 24 (FrozenOpenCLIPEmbedder layer="penultimate"), so the
#     conversion keeps 23, and the final layer norm is applied to the 23rd layer's output.
# Changes: plain nn.Module, no config object, attention mask and dropout paths removed; the
# causal mask is built as the 2022 releases did (_build_causal_attention_mask: a tensor of
# finfo.min, triu(1)), and pooling takes the hidden state at input_ids.argmax(-1), the
# eos_token_id == 2 branch that SD 1.5's text_encoder/config.json takes.
import torch
from torch import nn


# out_dim (not in transformers): None in every real model. make_export.py --size small sets it
# to give a tiny transformer the real output width: a Linear(hidden_size, out_dim), width_proj,
# after the final layer norm, so that the outputs keep the shapes the UNet and pipeline expect.
class Config:
    vocab_size = 49408
    hidden_size = 768
    intermediate_size = 3072
    num_hidden_layers = 12
    num_attention_heads = 12
    max_position_embeddings = 77
    layer_norm_eps = 1e-5
    hidden_act = "quick_gelu"
    out_dim = None


class ConfigSD2(Config):
    hidden_size = 1024
    intermediate_size = 4096
    num_hidden_layers = 23
    num_attention_heads = 16
    hidden_act = "gelu"


def quick_gelu(x):
    return x * torch.sigmoid(1.702 * x)


ACT = {"quick_gelu": quick_gelu, "gelu": nn.functional.gelu}  # transformers ACT2FN


class CLIPTextEmbeddings(nn.Module):
    def __init__(self, config):
        super().__init__()
        embed_dim = config.hidden_size
        self.token_embedding = nn.Embedding(config.vocab_size, embed_dim)
        self.position_embedding = nn.Embedding(config.max_position_embeddings, embed_dim)
        self.register_buffer("position_ids", torch.arange(config.max_position_embeddings).expand((1, -1)),
                             persistent=False)

    def forward(self, input_ids):
        seq_length = input_ids.shape[-1]
        position_ids = self.position_ids[:, :seq_length]
        inputs_embeds = self.token_embedding(input_ids)
        position_embeddings = self.position_embedding(position_ids)
        return inputs_embeds + position_embeddings


class CLIPAttention(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.embed_dim = config.hidden_size
        self.num_heads = config.num_attention_heads
        self.head_dim = self.embed_dim // self.num_heads
        self.scale = self.head_dim ** -0.5
        self.k_proj = nn.Linear(self.embed_dim, self.embed_dim)
        self.v_proj = nn.Linear(self.embed_dim, self.embed_dim)
        self.q_proj = nn.Linear(self.embed_dim, self.embed_dim)
        self.out_proj = nn.Linear(self.embed_dim, self.embed_dim)

    def forward(self, hidden_states, attention_mask):
        batch_size, seq_length, embed_dim = hidden_states.shape
        queries = self.q_proj(hidden_states)
        keys = self.k_proj(hidden_states)
        values = self.v_proj(hidden_states)
        queries = queries.view(batch_size, seq_length, -1, self.head_dim).transpose(1, 2)
        keys = keys.view(batch_size, seq_length, -1, self.head_dim).transpose(1, 2)
        values = values.view(batch_size, seq_length, -1, self.head_dim).transpose(1, 2)
        # eager_attention_forward
        attn_weights = torch.matmul(queries, keys.transpose(-1, -2)) * self.scale
        attn_weights = attn_weights + attention_mask
        attn_weights = nn.functional.softmax(attn_weights, dim=-1, dtype=torch.float32).to(queries.dtype)
        attn_output = torch.matmul(attn_weights, values)
        attn_output = attn_output.transpose(1, 2).contiguous()
        attn_output = attn_output.reshape(batch_size, seq_length, -1).contiguous()
        return self.out_proj(attn_output)


class CLIPMLP(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.activation_fn = ACT[config.hidden_act]
        self.fc1 = nn.Linear(config.hidden_size, config.intermediate_size)
        self.fc2 = nn.Linear(config.intermediate_size, config.hidden_size)

    def forward(self, hidden_states):
        return self.fc2(self.activation_fn(self.fc1(hidden_states)))


class CLIPEncoderLayer(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.embed_dim = config.hidden_size
        self.self_attn = CLIPAttention(config)
        self.layer_norm1 = nn.LayerNorm(self.embed_dim, eps=config.layer_norm_eps)
        self.mlp = CLIPMLP(config)
        self.layer_norm2 = nn.LayerNorm(self.embed_dim, eps=config.layer_norm_eps)

    def forward(self, hidden_states, attention_mask):
        residual = hidden_states
        hidden_states = self.layer_norm1(hidden_states)
        hidden_states = self.self_attn(hidden_states, attention_mask)
        hidden_states = residual + hidden_states
        residual = hidden_states
        hidden_states = self.layer_norm2(hidden_states)
        hidden_states = self.mlp(hidden_states)
        return residual + hidden_states


class CLIPEncoder(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.layers = nn.ModuleList([CLIPEncoderLayer(config) for _ in range(config.num_hidden_layers)])

    def forward(self, hidden_states, attention_mask):
        for layer in self.layers:
            hidden_states = layer(hidden_states, attention_mask)
        return hidden_states


def build_causal_attention_mask(bsz, seq_len, dtype):
    # transformers 4.2x CLIPTextTransformer._build_causal_attention_mask
    mask = torch.empty(bsz, seq_len, seq_len, dtype=dtype)
    mask.fill_(torch.tensor(torch.finfo(dtype).min))
    mask.triu_(1)  # zero out the lower diagonal
    return mask.unsqueeze(1)  # expand mask


class CLIPTextTransformer(nn.Module):
    def __init__(self, config=Config):
        super().__init__()
        self.embeddings = CLIPTextEmbeddings(config)
        self.encoder = CLIPEncoder(config)
        self.final_layer_norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.width_proj = nn.Linear(config.hidden_size, config.out_dim) if config.out_dim else None

    def forward(self, input_ids):
        bsz, seq_len = input_ids.shape
        hidden_states = self.embeddings(input_ids)
        causal_attention_mask = build_causal_attention_mask(bsz, seq_len, hidden_states.dtype)
        last_hidden_state = self.encoder(hidden_states, causal_attention_mask)
        last_hidden_state = self.final_layer_norm(last_hidden_state)
        if self.width_proj is not None:
            last_hidden_state = self.width_proj(last_hidden_state)
        pooled_output = last_hidden_state[
            torch.arange(last_hidden_state.shape[0], device=last_hidden_state.device),
            input_ids.to(dtype=torch.int, device=last_hidden_state.device).argmax(dim=-1),
        ]
        return last_hidden_state, pooled_output
