"""Chinese personal and business names, drawn with realistic frequencies."""

from __future__ import annotations

import numpy as np

# The most common surnames, roughly in order of frequency.
SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何林高罗郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余于杜叶程魏苏吕丁任沈姚卢傅钟姜崔谭廖范汪陆金石戴贾韦夏邱方侯邹熊孟秦白江阎薛尹段雷黎史龙陶贺顾毛郝龚邵万钱严赖覃洪武莫孔")
GIVEN = list("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏辉建国志文斌宇浩然晨曦子轩梓涵一诺欣怡思雨佳琪俊杰嘉豪天宇雨桐若汐")
BRANDS = list("华恒信达盛安鑫泰和兴源丰隆鼎瑞佳宏通利新创联合众城诚远博嘉")
TRADES = ["科技", "贸易", "餐饮", "建设", "物流", "电子商务", "文化传媒", "网络", "服装", "食品", "医药", "咨询", "茶业", "丝绸", "制造"]
_SURNAME_CP = np.array([ord(c) for c in SURNAMES], dtype=np.uint32)
_GIVEN_CP = np.array([ord(c) for c in GIVEN], dtype=np.uint32)
FORMS = {"enterprise": "有限公司", "individual_business": "商行", "farmer_cooperative": "专业合作社",
         "public_institution": "服务中心", "social_organization": "协会"}


def person_names(n: int, rng: np.random.Generator) -> np.ndarray:
    """Names of one surname and one or two given characters."""
    w = 1.0 / (np.arange(len(SURNAMES)) + 3.0)
    chars = np.zeros((n, 3), dtype=np.uint32)  # code points: surname, given, second given (0: none)
    chars[:, 0] = _SURNAME_CP[rng.choice(len(SURNAMES), n, p=w / w.sum())]
    chars[:, 1] = _GIVEN_CP[rng.integers(0, len(GIVEN), n)]
    two = rng.random(n) < 0.7
    chars[:, 2] = np.where(two, _GIVEN_CP[rng.integers(0, len(GIVEN), n)], 0)
    return chars.view("U3").ravel()


def entity_names(types: np.ndarray, district_names: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Business names like 杭州西湖区华信科技有限公司."""
    n = len(types)
    b1 = np.array(BRANDS)[rng.integers(0, len(BRANDS), n)]
    b2 = np.array(BRANDS)[rng.integers(0, len(BRANDS), n)]
    trade = np.array(TRADES)[rng.integers(0, len(TRADES), n)]
    form = np.array([FORMS[t] for t in types]) if n else np.array([], dtype=str)
    return np.char.add(np.char.add(np.char.add(np.char.add("杭州", district_names), np.char.add(b1, b2)), trade), form)
