import jwt
from django.shortcuts import render


def home(request):
    """Who is signed in, and what the ID token (verified at sign-in) said about it."""
    id_token = request.session.get("oidc_id_token")
    claims = jwt.decode(id_token, options={"verify_signature": False}) if id_token else {}
    return render(
        request,
        "rp_site/home.html",
        {
            "failed": "failed" in request.GET,
            "id_token": {k: claims.get(k) for k in ("iss", "aud", "sub")} if claims else None,
        },
    )
