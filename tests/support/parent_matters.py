"""Test reports for parent hot spots (integration and e2e): one rumour told in three wards, each in its own words,
and a different matter of the same topic. Similarities measured with both shipped similarity models: the rumour's
texts pair at cosine 0.39-0.49 (pair model 5.96-6.64), above the cross-ward threshold (0.25; strict 4.13);
OTHER is 0.06-0.14 from them (pair model 1.23-1.97): close enough to join inside a ward (0.1; 1.74), not to link
wards. All are thượng khẩn with 50 people or fewer named in the text."""

from __future__ import annotations

RUMOUR_TOPIC = "tin-don-mang-xa-hoi"
RUMOUR = [
    (
        "Tin đồn bắt cóc trẻ em",
        "Trên Facebook lan truyền tin đồn có nhóm người lạ đi xe bán tải bắt cóc trẻ em ở cổng trường tiểu học, "
        "nhiều phụ huynh hoảng sợ giữ con ở nhà, hàng chục người tụ tập trước cổng trường.",
    ),
    (
        "Phụ huynh hoảng loạn vì tin bắt cóc trẻ em",
        "Mấy hôm nay trên mạng xã hội đồn có người lạ đi xe bán tải bắt cóc trẻ em gần trường học, phụ huynh "
        "hoảng loạn kéo đến trường đón con, khoảng 50 người tụ tập ở cổng trường.",
    ),
    (
        "Tin đồn bắt cóc trẻ em gây hoang mang",
        "Nhiều nhóm Zalo chia sẻ tin bắt cóc trẻ em bằng xe bán tải ở khu vực trường tiểu học, phụ huynh hoang "
        "mang không cho con đi học, người dân tụ tập bàn tán đông trước cổng trường.",
    ),
]
OTHER = (
    "Tin đồn thu hồi đất làm sân golf",
    "Trên mạng lan truyền tin đồn tỉnh sắp thu hồi đất ruộng của cả thôn để làm sân golf, nhiều hộ dân bức xúc "
    "kéo đến trụ sở xã hỏi, khoảng 40 người tụ tập.",
)
OTHER_AGAIN = (
    "Dân hoang mang vì tin thu hồi đất làm sân golf",
    "Nhiều người chia sẻ trên mạng tin tỉnh sắp thu hồi đất ruộng để làm sân golf, hộ dân bức xúc kéo lên trụ sở "
    "xã hỏi cho rõ, khoảng 30 người tụ tập.",
)
"""The golf-course rumour in other words (cosine 0.66 to OTHER; pair model 8.31)."""
